//! The countries a scenario may put users in, and how to make a valid mobile number for each.
//!
//! Numbers are built from a national prefix (a mobile range, or for +1 an area code) followed by
//! random digits. Every prefix here was checked against libphonenumber's metadata (through the
//! `phonenumber` crate, see the tests): any completion is a valid number of that country. That
//! matters most for +1, where the area code decides the country (US, CA, DO, JM, PR) and so
//! the market and the US marketing pause (PMP-7).

/// One supported country.
#[derive(Debug)]
pub struct CountryInfo {
    /// ISO 3166-1 alpha-2 code.
    pub iso: &'static str,
    /// English name.
    pub name: &'static str,
    /// Country calling code (1 for North America).
    pub calling_code: u16,
    /// Length of the national significant number (digits after the calling code).
    pub nsn_len: u8,
    /// Mobile prefixes of the national number (for NANP countries: area codes).
    pub prefixes: &'static [&'static str],
    /// NANP: the digit after the 3-digit area code (start of the exchange code) is 2–9.
    pub nanp: bool,
    /// A representative UTC offset in minutes, used only to put users' activity in their
    /// daytime (no daylight saving: this shapes traffic, it does not bill it).
    pub utc_offset_min: i16,
}

/// A supported country: an index into [`COUNTRIES`]. Cheap to copy, ordered like the table
/// (alphabetically by ISO code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country(pub u16);

impl Country {
    /// Looks up an ISO 3166-1 alpha-2 code (case-insensitive).
    pub fn from_iso(code: &str) -> Option<Country> {
        let up = code.trim().to_ascii_uppercase();
        COUNTRIES
            .iter()
            .position(|c| c.iso == up)
            .map(|i| Country(i as u16))
    }
    /// The table row.
    pub fn info(self) -> &'static CountryInfo {
        &COUNTRIES[self.0 as usize]
    }
    /// ISO 3166-1 alpha-2 code.
    pub fn iso(self) -> &'static str {
        self.info().iso
    }
    /// How many distinct numbers [`make_number`] can make for this country.
    pub fn capacity(self) -> u64 {
        let info = self.info();
        info.prefixes
            .iter()
            .map(|p| {
                let free = u32::from(info.nsn_len) - p.len() as u32;
                if info.nanp && free > 0 {
                    8 * 10u64.pow(free - 1)
                } else {
                    10u64.pow(free)
                }
            })
            .sum()
    }
    /// Every supported country, in table order.
    pub fn all() -> impl Iterator<Item = Country> {
        (0..COUNTRIES.len() as u16).map(Country)
    }
}

/// The ISO codes of all supported countries, comma-separated (for error messages).
pub fn supported_list() -> String {
    COUNTRIES
        .iter()
        .map(|c| c.iso)
        .collect::<Vec<_>>()
        .join(", ")
}

const US_AREA: &[&str] = &[
    "201", "202", "203", "205", "206", "207", "208", "210", "212", "213", "214", "215", "216",
    "217", "218", "219", "224", "225", "228", "229", "231", "234", "239", "240", "248", "251",
    "252", "253", "254", "256", "260", "262", "267", "269", "270", "276", "281", "301", "302",
    "303", "304", "305", "307", "308", "309", "310", "312", "313", "314", "315", "316", "317",
    "318", "319", "320", "321", "323", "330", "334", "336", "337", "339", "347", "351", "352",
    "360", "361", "385", "386", "401", "402", "404", "405", "406", "407", "408", "409", "410",
    "412", "413", "414", "415", "417", "419", "423", "424", "425", "432", "434", "435", "440",
    "443", "469", "478", "479", "480", "484", "501", "502", "503", "504", "505", "507", "508",
    "509", "510", "512", "513", "515", "516", "517", "518", "520", "530", "540", "541", "559",
    "561", "562", "563", "567", "570", "571", "573", "574", "575", "580", "585", "586", "601",
    "602", "603", "605", "606", "607", "608", "609", "610", "612", "614", "615", "616", "617",
    "618", "619", "620", "623", "626", "630", "631", "636", "641", "646", "650", "651", "660",
    "661", "662", "678", "682", "701", "702", "703", "704", "706", "707", "708", "712", "713",
    "714", "715", "716", "717", "718", "719", "720", "724", "727", "731", "732", "734", "740",
    "754", "757", "760", "763", "765", "770", "772", "773", "774", "775", "781", "785", "786",
    "801", "802", "803", "804", "805", "806", "808", "810", "812", "813", "814", "815", "816",
    "817", "818", "828", "830", "831", "832", "843", "845", "847", "848", "850", "856", "857",
    "858", "859", "860", "862", "863", "864", "865", "870", "872", "878", "901", "903", "904",
    "906", "907", "908", "909", "910", "912", "913", "914", "915", "916", "917", "918", "919",
    "920", "925", "928", "931", "936", "937", "940", "941", "947", "949", "951", "952", "954",
    "956", "970", "971", "972", "973", "978", "979", "980", "985", "989",
];

const CA_AREA: &[&str] = &[
    "204", "226", "236", "249", "250", "289", "306", "343", "365", "403", "416", "418", "431",
    "437", "438", "450", "506", "514", "519", "548", "579", "581", "587", "604", "613", "639",
    "647", "705", "709", "778", "780", "782", "807", "819", "825", "867", "873", "902", "905",
];

macro_rules! c {
    ($iso:literal, $name:literal, $cc:literal, $len:literal, $off:literal, [$($p:literal),* $(,)?]) => {
        CountryInfo { iso: $iso, name: $name, calling_code: $cc, nsn_len: $len, prefixes: &[$($p),*], nanp: false, utc_offset_min: $off }
    };
}

/// All supported countries, sorted by ISO code.
#[rustfmt::skip]
pub static COUNTRIES: &[CountryInfo] = &[
    c!("AE", "United Arab Emirates", 971, 9, 240, ["50", "52", "54", "55", "56", "58"]),
    c!("AR", "Argentina", 54, 11, -180, ["9111", "9112", "9113", "9114", "9115", "9116", "9117", "9118"]),
    c!("AT", "Austria", 43, 10, 60, ["650", "660", "664", "676", "699"]),
    c!("AU", "Australia", 61, 9, 600, ["40", "41", "42", "43", "46"]),
    c!("BD", "Bangladesh", 880, 10, 360, ["13", "14", "15", "16", "17", "18", "19"]),
    c!("BE", "Belgium", 32, 9, 60, ["47", "49"]),
    c!("BR", "Brazil", 55, 11, -180, ["119", "219", "319", "419", "519", "619", "719", "819", "859", "919"]),
    CountryInfo { iso: "CA", name: "Canada", calling_code: 1, nsn_len: 10, prefixes: CA_AREA, nanp: true, utc_offset_min: -300 },
    c!("CH", "Switzerland", 41, 9, 60, ["75", "76", "77", "78", "79"]),
    c!("CL", "Chile", 56, 9, -240, ["92", "94", "95", "98"]),
    c!("CN", "China", 86, 11, 480, ["130", "131", "135", "136", "138", "139", "150", "151", "186", "188"]),
    c!("CO", "Colombia", 57, 10, -300, ["300", "301", "310", "311", "312", "313", "315", "316", "317", "318", "320", "321"]),
    c!("DE", "Germany", 49, 11, 60, ["151", "152", "157", "159", "160", "162", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179"]),
    CountryInfo { iso: "DO", name: "Dominican Republic", calling_code: 1, nsn_len: 10, prefixes: &["809", "829", "849"], nanp: true, utc_offset_min: -240 },
    c!("EG", "Egypt", 20, 10, 120, ["10", "11", "12", "15"]),
    c!("ES", "Spain", 34, 9, 60, ["60", "61", "62", "63", "64", "65", "66", "67", "68", "69"]),
    c!("FR", "France", 33, 9, 60, ["60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78", "79"]),
    c!("GB", "United Kingdom", 44, 10, 0, ["71", "72", "73", "740", "741", "742", "743", "744", "746", "747", "748", "749", "751", "753", "754", "755", "756", "757", "758", "759", "771", "772", "773", "774", "775", "776", "777", "780", "781", "784", "785", "786", "787", "788", "789", "790", "792", "794", "795", "796", "797", "798", "799"]),
    c!("GH", "Ghana", 233, 9, 0, ["20", "23", "24", "26", "27", "28", "50", "53", "54", "55", "56", "57"]),
    c!("HK", "Hong Kong", 852, 8, 480, ["61", "63", "64", "65", "69", "94", "96", "97"]),
    c!("ID", "Indonesia", 62, 11, 420, ["811", "812", "813", "815", "816", "817", "818", "819", "821", "822", "852", "853", "857", "858", "877", "878", "881", "895", "896"]),
    c!("IE", "Ireland", 353, 9, 0, ["83", "85", "86", "87", "89"]),
    c!("IL", "Israel", 972, 9, 120, ["53", "56", "505", "508", "522", "525", "526", "528", "544", "545", "546", "547", "548", "549", "585", "586"]),
    c!("IN", "India", 91, 10, 330, ["70", "87", "88", "89", "90", "93", "94", "95", "96", "97", "98", "99"]),
    c!("IT", "Italy", 39, 10, 60, ["320", "324", "327", "328", "329", "330", "331", "333", "334", "335", "336", "338", "339", "340", "342", "345", "346", "347", "348", "349", "350", "351", "366", "368", "370", "371", "377", "380", "388", "389", "391", "392", "393"]),
    c!("JM", "Jamaica", 1, 10, -300, ["8763", "8764", "8768"]),
    c!("JP", "Japan", 81, 10, 540, ["701", "704", "708", "801", "802", "803", "804", "805", "806", "807", "808", "809", "901", "902", "903", "904", "905", "906", "907", "908", "909"]),
    c!("KE", "Kenya", 254, 9, 180, ["70", "71", "72", "74", "79"]),
    c!("KR", "South Korea", 82, 10, 540, ["100", "101", "102", "103", "104", "106", "107", "108", "109"]),
    c!("KZ", "Kazakhstan", 7, 10, 300, ["700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"]),
    c!("MX", "Mexico", 52, 10, -360, ["55", "33", "81", "222", "442", "656", "664", "998"]),
    c!("MY", "Malaysia", 60, 9, 480, ["12", "16", "19", "132", "133", "137", "138", "142", "143", "146", "148", "172", "173", "176", "177"]),
    c!("NG", "Nigeria", 234, 10, 60, ["701", "703", "706", "708", "802", "803", "805", "806", "807", "808", "812", "813", "815", "816", "901", "902", "907", "909"]),
    c!("NL", "Netherlands", 31, 9, 60, ["61", "62", "63", "64", "65"]),
    c!("NZ", "New Zealand", 64, 9, 720, ["21", "22", "27", "29"]),
    c!("PE", "Peru", 51, 9, -300, ["91", "92", "93", "94", "95", "96", "97", "98", "99"]),
    c!("PH", "Philippines", 63, 10, 480, ["905", "906", "915", "917", "918", "919", "920", "921", "927", "928", "929", "939", "945", "955", "966", "977", "995", "998"]),
    c!("PK", "Pakistan", 92, 10, 300, ["300", "301", "302", "303", "304", "305", "306", "307", "308", "309", "311", "312", "313", "314", "315", "320", "321", "322", "331", "332", "333", "334", "335", "336", "340", "341", "342", "343", "344", "345", "346", "347"]),
    c!("PL", "Poland", 48, 9, 60, ["50", "51", "53", "60", "66", "69", "72", "73", "78", "79", "88"]),
    CountryInfo { iso: "PR", name: "Puerto Rico", calling_code: 1, nsn_len: 10, prefixes: &["787", "939"], nanp: true, utc_offset_min: -240 },
    c!("PT", "Portugal", 351, 9, 0, ["91", "92", "93", "96"]),
    c!("QA", "Qatar", 974, 8, 180, ["33", "55", "66", "70", "77"]),
    c!("RU", "Russia", 7, 10, 180, ["900", "903", "905", "906", "909", "910", "915", "916", "917", "919", "925", "926", "929", "965", "977", "985", "999"]),
    c!("SA", "Saudi Arabia", 966, 9, 180, ["50", "53", "54", "55", "56", "58", "59"]),
    c!("SE", "Sweden", 46, 9, 60, ["70", "72", "73", "76", "79"]),
    c!("SG", "Singapore", 65, 8, 480, ["81", "82", "83", "84", "85", "86", "87", "88", "90", "91", "92", "93", "94", "96", "97", "98"]),
    c!("TH", "Thailand", 66, 9, 420, ["61", "62", "63", "64", "65", "80", "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99"]),
    c!("TR", "Turkey", 90, 10, 180, ["505", "506", "507", "530", "531", "532", "533", "534", "535", "536", "537", "538", "539", "541", "542", "543", "544", "545", "546", "547", "548", "549", "551", "552", "553", "554", "555"]),
    c!("UA", "Ukraine", 380, 9, 120, ["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"]),
    CountryInfo { iso: "US", name: "United States", calling_code: 1, nsn_len: 10, prefixes: US_AREA, nanp: true, utc_offset_min: -300 },
    c!("VN", "Vietnam", 84, 9, 420, ["32", "33", "34", "35", "36", "37", "38", "39", "70", "76", "77", "78", "79", "81", "82", "83", "84", "85", "86", "88", "90", "91", "93", "94", "96", "97", "98"]),
    c!("ZA", "South Africa", 27, 9, 120, ["60", "61", "62", "63", "64", "65", "71", "72", "73", "74", "76", "78", "79", "81", "82", "83", "84"]),
];

/// Builds a random mobile number of `country` as E.164 digits (no `+`) packed in a `u64`.
/// `digit(n)` must return a uniform integer in `0..n`.
pub fn make_number(country: Country, mut digit: impl FnMut(u64) -> u64) -> u64 {
    let info = country.info();
    let prefix = info.prefixes[digit(info.prefixes.len() as u64) as usize];
    let mut nsn: u64 = 0;
    let mut len = 0u8;
    for b in prefix.bytes() {
        nsn = nsn * 10 + u64::from(b - b'0');
        len += 1;
    }
    if info.nanp && len < info.nsn_len {
        nsn = nsn * 10 + 2 + digit(8);
        len += 1;
    }
    while len < info.nsn_len {
        nsn = nsn * 10 + digit(10);
        len += 1;
    }
    u64::from(info.calling_code) * 10u64.pow(u32::from(info.nsn_len)) + nsn
}
