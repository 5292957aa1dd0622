//! Changing one key of a checked scenario (`wabill compare --vary KEY=V1,V2,…`), with the
//! checks and error messages of the scenario file.

use toml::Value;

use super::values::{boolean, non_negative, plausible_rate, probability, reengagement, Res};
use super::{Scenario, ScenarioError};

impl Scenario {
    /// The keys [`Scenario::set`] accepts (`wabill compare --vary KEY=V1,V2,…`).
    pub const SETTABLE: [&'static str; 22] = [
        "support.fcr",
        "support.followup_resolution",
        "support.contacts_per_user_month",
        "support.ctwa_share",
        "support.page_cta_share",
        "support.reengagement",
        "support.wait_return_share",
        "delivery.failure_rate",
        "utility.orders_per_user_month",
        "authentication.logins_per_user_month",
        "campaign.share",
        "campaign.reply_rate",
        "campaign[N].share",
        "campaign[N].reply_rate",
        "log.bsuid_share",
        "log.bsuid_only",
        "log.inbound",
        "agent.share",
        "calls.share",
        "calls.callback_share",
        "groups.broadcasts_per_month",
        "groups.reply_share",
    ];

    /// Sets one key of a checked scenario to `value` (TOML syntax; a bare word is a string),
    /// with the same checks and error messages as the scenario file: `support.fcr = 1.5` fails
    /// naming the key and the value. `campaign.share` sets every campaign, `campaign[N].share`
    /// one (N from 0, in file order).
    ///
    /// ```
    /// let mut s = wabill::traffic::parse_scenario(
    ///     "[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\nusers = { IN = 10 }\n",
    /// ).unwrap();
    /// s.set("support.fcr", "0.9").unwrap();
    /// assert_eq!(s.support.fcr, 0.9);
    /// assert!(s.set("support.fcr", "1.5").unwrap_err().to_string().contains("support.fcr"));
    /// ```
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ScenarioError> {
        let val: Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| Value::String(value.trim().to_string()));
        let v = Some(&val);
        let s = &mut self.support;
        match key {
            "support.fcr" => s.fcr = probability(key, v, 0.0)?,
            "support.followup_resolution" => s.followup_resolution = probability(key, v, 0.0)?,
            "support.contacts_per_user_month" => {
                s.contacts_per_user_month = plausible_rate(key, non_negative(key, v, 0.0)?)?
            }
            "support.ctwa_share" | "support.page_cta_share" => self.set_entry_share(key, &val)?,
            "support.reengagement" => s.reengagement = reengagement(key, &val)?,
            "support.wait_return_share" => s.wait_return_share = probability(key, v, 0.0)?,
            "delivery.failure_rate" => self.failure_rate = probability(key, v, 0.0)?,
            "utility.orders_per_user_month" => {
                self.utility.orders_per_user_month =
                    plausible_rate(key, non_negative(key, v, 0.0)?)?
            }
            "authentication.logins_per_user_month" => {
                self.authentication.logins_per_user_month =
                    plausible_rate(key, non_negative(key, v, 0.0)?)?
            }
            "log.bsuid_share" => self.log.bsuid_share = probability(key, v, 0.0)?,
            "log.bsuid_only" => self.log.bsuid_only = probability(key, v, 0.0)?,
            "log.inbound" => self.log.inbound = boolean(key, &val)?,
            "agent.share" => self.agent.share = probability(key, v, 0.0)?,
            "calls.share" => self.calls.share = probability(key, v, 0.0)?,
            "calls.callback_share" => self.calls.callback_share = probability(key, v, 0.0)?,
            "groups.broadcasts_per_month" => {
                self.groups.broadcasts_per_month = plausible_rate(key, non_negative(key, v, 0.0)?)?
            }
            "groups.reply_share" => self.groups.reply_share = probability(key, v, 0.0)?,
            _ => self.set_campaigns(key, &val)?,
        }
        Ok(())
    }

    /// `support.ctwa_share` or `support.page_cta_share`: together at most 1.
    fn set_entry_share(&mut self, key: &str, val: &Value) -> Res<()> {
        let s = &mut self.support;
        let p = probability(key, Some(val), 0.0)?;
        let other = if key == "support.ctwa_share" {
            s.page_cta_share
        } else {
            s.ctwa_share
        };
        if p + other > 1.0 + 1e-9 {
            return Err(ScenarioError::invalid(
                key,
                val,
                format!(
                    "support.ctwa_share + support.page_cta_share must not exceed 1 (the other is {other})"
                ),
            ));
        }
        if key == "support.ctwa_share" {
            s.ctwa_share = p;
        } else {
            s.page_cta_share = p;
        }
        Ok(())
    }

    /// `campaign.share` / `campaign.reply_rate` (every campaign) or `campaign[N].…` (one);
    /// any other key is not one that can be varied.
    fn set_campaigns(&mut self, key: &str, val: &Value) -> Res<()> {
        let Some((which, field)) = campaign_key(key) else {
            return Err(ScenarioError::invalid(
                key,
                val,
                format!(
                    "not a key that can be varied (one of {})",
                    Scenario::SETTABLE.join(", ")
                ),
            ));
        };
        if self.campaigns.is_empty() {
            return Err(ScenarioError::invalid(
                key,
                val,
                "the scenario has no [[campaign]]",
            ));
        }
        let range = match which {
            None => 0..self.campaigns.len(),
            Some(i) if i < self.campaigns.len() => i..i + 1,
            Some(_) => {
                return Err(ScenarioError::invalid(
                    key,
                    val,
                    format!(
                        "the scenario has {} campaign(s), numbered from 0",
                        self.campaigns.len()
                    ),
                ))
            }
        };
        let p = probability(key, Some(val), 0.0)?;
        for c in &mut self.campaigns[range] {
            match field {
                "share" => c.share = p,
                _ => c.reply_rate = p,
            }
        }
        Ok(())
    }
}

/// Every combination of swept values (`sweeps`: key and its values), first key slowest, each
/// as the (key, value) settings to [`Scenario::set`] in order. No sweeps: one empty setting.
pub fn settings_grid(sweeps: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (k, values) in sweeps {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((k.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    combos
}

/// `campaign.share` → (None, "share"); `campaign[2].reply_rate` → (Some(2), "reply_rate").
fn campaign_key(key: &str) -> Option<(Option<usize>, &str)> {
    let rest = key.strip_prefix("campaign")?;
    let (which, field) = if let Some(r) = rest.strip_prefix('.') {
        (None, r)
    } else {
        let r = rest.strip_prefix('[')?;
        let (n, f) = r.split_once("].")?;
        (Some(n.parse().ok()?), f)
    };
    matches!(field, "share" | "reply_rate").then_some((which, field))
}
