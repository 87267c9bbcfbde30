//! Kubernetes resource quantities ("500m", "36Gi", "8", "1e3") in Kueue's units: CPU in
//! milli-cores, everything else in whole base units (bytes, devices, pods), fractions rounded
//! up as Kueue's `MilliValue` and `Value` do.
//!
//! The grammar is Kubernetes': an optional sign, digits with an optional decimal point (`5.` and
//! `.5` too), then a binary suffix (`Ki` .. `Ei`), a decimal one (`n u m k M G T P E`, or none),
//! or an exponent (`e`/`E` and a signed integer). The value is computed exactly from the digits:
//! no step can wrap, and a value fairway cannot hold is an error rather than a smaller number.

/// Kueue's "Unlimited": larger than any real quota, small enough to add a few together.
pub const UNLIMITED: i64 = i64::MAX / 8;

/// Why a text is not a quantity fairway can hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantityError {
    /// Not in Kubernetes' quantity grammar.
    #[error("invalid quantity '{0}'")]
    Syntax(String),
    /// Below zero (Kueue refuses negative quotas).
    #[error("invalid quantity '{0}': must be greater than or equal to 0")]
    Negative(String),
    /// At or above [`UNLIMITED`] in its unit.
    #[error("invalid quantity '{text}': too large, fairway holds at most {max}")]
    TooLarge { text: String, max: String },
}

/// Exponents are clamped here while read: the value of any text shorter than this many
/// characters is already decided (too large, zero, or rounded up to 1) well before it.
const EXP_CAP: i64 = 1 << 40;

/// The parts of a quantity's text: sign, digits before and after the point, and the suffix as
/// a power of ten and a power of two.
struct Parts<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
    exp10: i64,
    exp2: u32,
}

fn split(t: &str) -> Option<Parts<'_>> {
    let b = t.as_bytes();
    let (negative, mut i) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let digits_from = |i: usize| i + b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_end = digits_from(i);
    let int = &t[i..int_end];
    i = int_end;
    let mut frac = "";
    if b.get(i) == Some(&b'.') {
        let end = digits_from(i + 1);
        frac = &t[i + 1..end];
        i = end;
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let (exp10, exp2) = suffix(&t[i..])?;
    Some(Parts {
        negative,
        int,
        frac,
        exp10,
        exp2,
    })
}

/// A suffix as (power of ten, power of two).
fn suffix(s: &str) -> Option<(i64, u32)> {
    Some(match s {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        // "E" alone is exa; followed by digits it is an exponent (below).
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => {
            let rest = s.strip_prefix(['e', 'E'])?;
            let (negative, digits) = match rest.as_bytes().first() {
                Some(b'-') => (true, &rest[1..]),
                Some(b'+') => (false, &rest[1..]),
                _ => (false, rest),
            };
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let e = digits
                .bytes()
                .fold(0i64, |e, c| (e * 10 + i64::from(c - b'0')).min(EXP_CAP));
            (if negative { -e } else { e }, 0)
        }
    })
}

/// 10^19 is the smallest power of ten above [`UNLIMITED`] (about 1.15e18).
const DIGITS_ABOVE_UNLIMITED: i64 = 19;

/// `ceil(digits x 10^exp10 x 2^exp2)` for decimal `digits` (most significant first, no leading
/// zero, not all zero), or `None` if it is 10^19 or more.
fn ceil_value(mut digits: Vec<u8>, exp10: i64, exp2: u32) -> Option<u128> {
    // The leading digit's power of ten bounds the value from both sides.
    let top = digits.len() as i64 - 1 + exp10;
    if top >= DIGITS_ABOVE_UNLIMITED {
        return None;
    }
    // Below 10^-20, even times 2^60 (< 1.2e18) the value is under 1: it rounds up to 1.
    if top < -20 {
        return Some(1);
    }
    if exp2 > 0 {
        // digits x 2^exp2, exactly, in decimal: a digit times 2^60 plus the carry fits a u128.
        let mut carry: u128 = 0;
        for d in digits.iter_mut().rev() {
            let x = u128::from(*d) * (1u128 << exp2) + carry;
            *d = (x % 10) as u8;
            carry = x / 10;
        }
        let mut high = Vec::new();
        while carry > 0 {
            high.push((carry % 10) as u8);
            carry /= 10;
        }
        high.reverse();
        high.extend_from_slice(&digits);
        digits = high;
    }
    let len = digits.len() as i64;
    let (whole, fraction): (&[u8], &[u8]) = if exp10 >= 0 {
        (&digits, &[])
    } else if len + exp10 > 0 {
        digits.split_at((len + exp10) as usize)
    } else {
        (&[], &digits)
    };
    let zeros = exp10.max(0);
    if whole.len() as i64 + zeros > DIGITS_ABOVE_UNLIMITED {
        return None;
    }
    let mut v: u128 = 0;
    for &d in whole {
        v = v * 10 + u128::from(d);
    }
    v *= 10u128.pow(zeros as u32);
    Some(v + u128::from(fraction.iter().any(|&d| d != 0)))
}

/// Kueue's value of a quantity for resource `resource`: milli-cores for `cpu`, whole units
/// (rounded up) for anything else; below [`UNLIMITED`]. Surrounding spaces are ignored.
pub fn parse(resource: &str, text: &str) -> Result<i64, QuantityError> {
    let unit_exp = if resource == "cpu" { 3 } else { 0 };
    value(text, unit_exp).map_err(|f| f.error(text, || show(resource, UNLIMITED - 1)))
}

/// A fair-sharing weight, a quantity ("1", "0.5", "500m"), to the thousandth as Kueue reads it.
pub fn parse_weight(text: &str) -> Result<f64, QuantityError> {
    let most = || format!("{}.{:03}", (UNLIMITED - 1) / 1000, (UNLIMITED - 1) % 1000);
    let milli = value(text, 3).map_err(|f| f.error(text, most))?;
    Ok(milli as f64 / 1000.0)
}

/// What is wrong with a quantity, before it is told with its text.
enum Fault {
    Syntax,
    Negative,
    TooLarge,
}

impl Fault {
    fn error(self, text: &str, max: impl FnOnce() -> String) -> QuantityError {
        let text = text.to_string();
        match self {
            Fault::Syntax => QuantityError::Syntax(text),
            Fault::Negative => QuantityError::Negative(text),
            Fault::TooLarge => QuantityError::TooLarge { text, max: max() },
        }
    }
}

/// `ceil(text x 10^unit_exp)`, below [`UNLIMITED`].
fn value(text: &str, unit_exp: i64) -> Result<i64, Fault> {
    let p = split(text.trim()).ok_or(Fault::Syntax)?;
    let digits: Vec<u8> = (p.int.bytes().chain(p.frac.bytes()))
        .map(|c| c - b'0')
        .skip_while(|&d| d == 0)
        .collect();
    if digits.is_empty() {
        // Zero, whatever its sign and suffix.
        return Ok(0);
    }
    if p.negative {
        return Err(Fault::Negative);
    }
    // No overflow: |exp10| <= EXP_CAP, and a text's length is far below i64::MAX.
    let exp10 = p.exp10 + unit_exp - p.frac.len() as i64;
    match ceil_value(digits, exp10, p.exp2) {
        Some(v) if v < UNLIMITED as u128 => Ok(v as i64),
        _ => Err(Fault::TooLarge),
    }
}

/// Prints a quantity back in the resource's usual unit.
pub fn show(resource: &str, v: i64) -> String {
    if v >= UNLIMITED {
        return "unlimited".to_string();
    }
    match resource {
        "cpu" if v % 1000 == 0 => format!("{}", v / 1000),
        "cpu" => format!("{v}m"),
        "memory" if v % (1 << 30) == 0 => format!("{}Gi", v >> 30),
        "memory" if v % (1 << 20) == 0 => format!("{}Mi", v >> 20),
        _ => format!("{v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_in_kueue_units() {
        assert_eq!(parse("cpu", "500m"), Ok(500));
        assert_eq!(parse("cpu", "2"), Ok(2000));
        assert_eq!(parse("cpu", "1.5"), Ok(1500));
        assert_eq!(parse("memory", "36Gi"), Ok(36 << 30));
        assert_eq!(parse("memory", "1k"), Ok(1000));
        assert_eq!(parse("memory", "1.5Ki"), Ok(1536));
        assert_eq!(parse("nvidia.com/gpu", "8"), Ok(8));
        // Fractions of non-CPU resources round up.
        assert_eq!(parse("nvidia.com/gpu", "0.5"), Ok(1));
        assert_eq!(parse("memory", "100m"), Ok(1));
        assert_eq!(parse("cpu", "0.0001"), Ok(1));
        assert_eq!(show("memory", 36 << 30), "36Gi");
        assert_eq!(show("cpu", 1500), "1500m");
    }

    /// The forms Kubernetes accepts besides plain numbers with a suffix.
    #[test]
    fn exponents_signs_bare_points_and_small_suffixes() {
        let gpu = "nvidia.com/gpu";
        assert_eq!(parse(gpu, "1e3"), Ok(1000));
        assert_eq!(parse("memory", "1E3"), Ok(1000));
        assert_eq!(parse(gpu, "1E+2"), Ok(100));
        // 1e3 cores = 1 000 000 milli-cores; 1e-3 cores = 1 milli-core.
        assert_eq!(parse("cpu", "1e3"), Ok(1_000_000));
        assert_eq!(parse("cpu", "1e-3"), Ok(1));
        // 25e-4 cores = 2.5m, rounded up.
        assert_eq!(parse("cpu", "25e-4"), Ok(3));
        // "E" alone is exa: 10^18, just below UNLIMITED (about 1.153e18).
        assert_eq!(parse(gpu, "1E"), Ok(1_000_000_000_000_000_000));
        assert_eq!(parse(gpu, "+8"), Ok(8));
        assert_eq!(parse("cpu", ".5"), Ok(500));
        assert_eq!(parse(gpu, "5."), Ok(5));
        assert_eq!(parse("cpu", "5."), Ok(5000));
        // 100n cores = 0.0001m; 1u core = 0.001m: both round up to 1m.
        assert_eq!(parse("cpu", "100n"), Ok(1));
        assert_eq!(parse("cpu", "1u"), Ok(1));
        // 2 000 000n = 0.002 cores = 2m exactly; 1500u = 1.5m, rounded up.
        assert_eq!(parse("cpu", "2000000n"), Ok(2));
        assert_eq!(parse("cpu", "1500u"), Ok(2));
        assert_eq!(parse("memory", "100n"), Ok(1));
        assert_eq!(parse(gpu, "3000000000n"), Ok(3));
        // Zero whatever its sign, suffix or exponent.
        assert_eq!(parse("cpu", "-0"), Ok(0));
        assert_eq!(parse("cpu", "0e400"), Ok(0));
        assert_eq!(parse("memory", "0.000Ei"), Ok(0));
    }

    /// Fractions round up once, on the exact value, as Kueue's MilliValue and Value do.
    #[test]
    fn fractions_round_up_on_the_exact_value() {
        // 1.5m is 1.5 milli-cores: 2.
        assert_eq!(parse("cpu", "1.5m"), Ok(2));
        // 1.0001k = 1000.1 cores = 1 000 100m.
        assert_eq!(parse("cpu", "1.0001k"), Ok(1_000_100));
        // 1.0001Ki = 1024.1024 cores = 1 024 102.4m, rounded up.
        assert_eq!(parse("cpu", "1.0001Ki"), Ok(1_024_103));
        assert_eq!(parse("memory", "0.5Ki"), Ok(512));
        // 2^60 x 10^-6 = 1 152 921 504 606.846976 bytes, rounded up.
        assert_eq!(parse("memory", "0.000001Ei"), Ok(1_152_921_504_607));
        // 2^60 x 10^-30 is about 1.2e-12 bytes: rounded up to 1.
        assert_eq!(parse("memory", "0.000000000000000000000000000001Ei"), Ok(1));
        assert_eq!(parse("cpu", "1e-400"), Ok(1));
        assert_eq!(parse("cpu", "1e-99999999999999999999999"), Ok(1));
        // Many decimals: 0.0...01 cores is above 0, so 1m; 0.99...9 cores is 999.99...m, so
        // 1000m; 2.000... is exactly 2 cores; 1.000...01 GPUs is 2 GPUs.
        let zeros = "0".repeat(500);
        let nines = "9".repeat(1000);
        assert_eq!(parse("cpu", &format!("0.{zeros}1")), Ok(1));
        assert_eq!(parse("cpu", &format!("0.{nines}")), Ok(1000));
        assert_eq!(parse("nvidia.com/gpu", &format!("0.{nines}")), Ok(1));
        assert_eq!(parse("cpu", &format!("2.{zeros}")), Ok(2000));
        assert_eq!(parse("nvidia.com/gpu", &format!("1.{zeros}1")), Ok(2));
        assert_eq!(parse("nvidia.com/gpu", &format!("000{zeros}7")), Ok(7));
        // 123456789012345678.9 GPUs, rounded up.
        assert_eq!(
            parse("nvidia.com/gpu", "123456789012345678.9"),
            Ok(123_456_789_012_345_679)
        );
    }

    fn too_large(resource: &str, text: &str) -> Result<i64, QuantityError> {
        Err(QuantityError::TooLarge {
            text: text.into(),
            max: show(resource, UNLIMITED - 1),
        })
    }

    /// A value fairway cannot hold is an error, never a wrapped or capped number.
    #[test]
    fn too_large_is_an_error() {
        // Above i128::MAX in milli-cores (about 1.7e38): this wrapped to 271m.
        let wrap = "170141183460469231731687303715884105.999";
        assert_eq!(parse("cpu", wrap), too_large("cpu", wrap));
        assert_eq!(
            parse("cpu", wrap).unwrap_err().to_string(),
            "invalid quantity '170141183460469231731687303715884105.999': too large, fairway holds at most 1152921504606846974m"
        );
        // With any suffix it is still far above 1.15e18 units (with n: 1.7e26 cores).
        for suffix in [
            "n", "u", "m", "", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
        ] {
            for resource in ["cpu", "memory", "nvidia.com/gpu"] {
                let text = format!("{wrap}{suffix}");
                assert_eq!(parse(resource, &text), too_large(resource, &text), "{text}");
                let text = format!("1{}{suffix}", "0".repeat(40));
                assert_eq!(parse(resource, &text), too_large(resource, &text), "{text}");
            }
        }
        for text in [
            "1e400",
            "1E400",
            "1e19",
            "1e99999999999999999999999",
            "10000000000000000000",
        ] {
            assert_eq!(parse("nvidia.com/gpu", text), too_large("nvidia.com/gpu", text));
        }
        let many = format!("1{}.{}", "0".repeat(19), "5".repeat(100));
        assert_eq!(parse("nvidia.com/gpu", &many), too_large("nvidia.com/gpu", &many));
        // The edge: UNLIMITED - 1 = 1152921504606846974 is the largest value.
        assert_eq!(parse("nvidia.com/gpu", "1152921504606846974"), Ok(UNLIMITED - 1));
        assert_eq!(
            parse("nvidia.com/gpu", "1152921504606846975"),
            too_large("nvidia.com/gpu", "1152921504606846975")
        );
        assert_eq!(parse("cpu", "1152921504606846.974"), Ok(UNLIMITED - 1));
        assert_eq!(
            parse("cpu", "1152921504606846.9741"),
            too_large("cpu", "1152921504606846.9741")
        );
        // 1023Pi = 1023 x 2^50 = 1 151 795 604 700 004 352 bytes fits; 1Ei = 2^60 does not.
        assert_eq!(parse("memory", "1023Pi"), Ok(1_151_795_604_700_004_352));
        assert_eq!(parse("memory", "1Ei"), too_large("memory", "1Ei"));
        assert_eq!(
            parse_weight("1e400").unwrap_err().to_string(),
            "invalid quantity '1e400': too large, fairway holds at most 1152921504606846.974"
        );
        assert_eq!(parse_weight("500m"), Ok(0.5));
    }

    #[test]
    fn negatives_and_malformed_texts_are_refused() {
        for text in ["-1", "-0.5", "-1Gi", "-1e-400", "-.5"] {
            assert_eq!(
                parse("cpu", text),
                Err(QuantityError::Negative(text.into())),
                "{text}"
            );
        }
        assert_eq!(
            parse("memory", "-1Gi").unwrap_err().to_string(),
            "invalid quantity '-1Gi': must be greater than or equal to 0"
        );
        for bad in [
            "", " ", "x", "1x", "1..2", "Gi", ".", "+", "-", "+-1", "--1", "1e", "1e+", "1ee3", "e3", "1K",
            "1Ki3", "1e3.5", "1.5.5", "1 e3", "0x10", "1_000", "\u{ff11}", "1\u{0}",
        ] {
            assert_eq!(
                parse("cpu", bad),
                Err(QuantityError::Syntax(bad.into())),
                "{bad:?}"
            );
        }
    }

    proptest::proptest! {
        /// Against exact rational arithmetic on small inputs: ceil(m / 10^k x suffix x unit).
        #[test]
        fn matches_exact_arithmetic(
            m in 0u64..1_000_000_000_000,
            k in 0usize..7,
            suffix in 0usize..17,
            cpu: bool,
        ) {
            let (name, exp10, exp2) = [
                ("n", -9, 0), ("u", -6, 0), ("m", -3, 0), ("", 0, 0), ("k", 3, 0), ("M", 6, 0),
                ("G", 9, 0), ("T", 12, 0), ("P", 15, 0), ("E", 18, 0), ("Ki", 0, 10),
                ("Mi", 0, 20), ("Gi", 0, 30), ("Ti", 0, 40), ("Pi", 0, 50), ("Ei", 0, 60),
                ("e-2", -2, 0),
            ][suffix];
            let digits = format!("{m:0>width$}", width = k + 1);
            let text = if k == 0 {
                format!("{digits}{name}")
            } else {
                format!("{}.{}{name}", &digits[..digits.len() - k], &digits[digits.len() - k..])
            };
            let resource = if cpu { "cpu" } else { "memory" };
            let e: i32 = exp10 + if cpu { 3 } else { 0 } - k as i32;
            let num = u128::from(m) << exp2;
            let num = num * 10u128.pow(e.max(0) as u32);
            let den = 10u128.pow((-e).max(0) as u32);
            let want = num.div_ceil(den);
            let got = parse(resource, &text);
            if want < UNLIMITED as u128 {
                proptest::prop_assert_eq!(got, Ok(want as i64), "{}", text);
            } else {
                proptest::prop_assert_eq!(got, too_large(resource, &text), "{}", text);
            }
        }

        /// Nothing panics, whatever the text.
        #[test]
        fn any_text_is_a_value_or_an_error(text in "[-+]?[0-9.]{0,30}([eE][-+]?[0-9]{0,25}|[numkMGTPE]i?)?|\\PC{0,20}") {
            let _ = parse("cpu", &text);
            let _ = parse("memory", &text);
            let _ = parse_weight(&text);
        }
    }
}
