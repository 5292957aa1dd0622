//! The ids of the billing rules (docs/spec/billing-rules.md) that decisions name: the ledger's
//! `rule` column and the issues' `rule`.

/// The rule behind a decision, for the ledger and issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    Conv4,
    Conv5,
    Cbp2,
    Cbp3,
    Cbp4,
    Cbp5,
    Cbp6,
    Cbp7,
    Cbp9,
    Cbp10,
    Pmp1,
    Pmp2,
    Pmp3,
    Pmp4,
    Pmp5,
    Pmp6,
    Pmp7,
    Mkt1,
    Grp1,
    Grp2,
    Grp3,
    Call1,
    Call2,
    Call3,
    Mba1,
    Aip1,
    Maxp1,
    Cur1,
}

impl Rule {
    /// Every rule a decision can name, in spec order; a rule's position here is its code in
    /// fixed-size records.
    pub const ALL: [Rule; 28] = [
        Rule::Conv4,
        Rule::Conv5,
        Rule::Cbp2,
        Rule::Cbp3,
        Rule::Cbp4,
        Rule::Cbp5,
        Rule::Cbp6,
        Rule::Cbp7,
        Rule::Cbp9,
        Rule::Cbp10,
        Rule::Pmp1,
        Rule::Pmp2,
        Rule::Pmp3,
        Rule::Pmp4,
        Rule::Pmp5,
        Rule::Pmp6,
        Rule::Pmp7,
        Rule::Mkt1,
        Rule::Grp1,
        Rule::Grp2,
        Rule::Grp3,
        Rule::Call1,
        Rule::Call2,
        Rule::Call3,
        Rule::Mba1,
        Rule::Aip1,
        Rule::Maxp1,
        Rule::Cur1,
    ];

    /// The spec's id, e.g. `CBP-3`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Conv4 => "CONV-4",
            Rule::Conv5 => "CONV-5",
            Rule::Cbp2 => "CBP-2",
            Rule::Cbp3 => "CBP-3",
            Rule::Cbp4 => "CBP-4",
            Rule::Cbp5 => "CBP-5",
            Rule::Cbp6 => "CBP-6",
            Rule::Cbp7 => "CBP-7",
            Rule::Cbp9 => "CBP-9",
            Rule::Cbp10 => "CBP-10",
            Rule::Pmp1 => "PMP-1",
            Rule::Pmp2 => "PMP-2",
            Rule::Pmp3 => "PMP-3",
            Rule::Pmp4 => "PMP-4",
            Rule::Pmp5 => "PMP-5",
            Rule::Pmp6 => "PMP-6",
            Rule::Pmp7 => "PMP-7",
            Rule::Mkt1 => "MKT-1",
            Rule::Grp1 => "GRP-1",
            Rule::Grp2 => "GRP-2",
            Rule::Grp3 => "GRP-3",
            Rule::Call1 => "CALL-1",
            Rule::Call2 => "CALL-2",
            Rule::Call3 => "CALL-3",
            Rule::Mba1 => "MBA-1",
            Rule::Aip1 => "AIP-1",
            Rule::Maxp1 => "MAXP-1",
            Rule::Cur1 => "CUR-1",
        }
    }
}
