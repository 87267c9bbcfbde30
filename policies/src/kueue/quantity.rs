//! Kubernetes resource quantities ("500m", "36Gi", "8") in Kueue's units: CPU in milli-cores,
//! everything else in whole base units (bytes, devices, pods), fractions rounded up.

/// A quantity in thousandths of its base unit, or `None` if the text is not a quantity.
fn to_milli(text: &str) -> Option<i128> {
    let t = text.trim();
    let (num, scale): (&str, i128) = if let Some(n) = t.strip_suffix("Ki") {
        (n, 1 << 10)
    } else if let Some(n) = t.strip_suffix("Mi") {
        (n, 1 << 20)
    } else if let Some(n) = t.strip_suffix("Gi") {
        (n, 1 << 30)
    } else if let Some(n) = t.strip_suffix("Ti") {
        (n, 1 << 40)
    } else if let Some(n) = t.strip_suffix("Pi") {
        (n, 1 << 50)
    } else if let Some(n) = t.strip_suffix("Ei") {
        (n, 1 << 60)
    } else if let Some(n) = t.strip_suffix('m') {
        return decimal_milli(n).map(|v| v / 1000);
    } else if let Some(n) = t.strip_suffix('k') {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix('M') {
        (n, 1_000_000)
    } else if let Some(n) = t.strip_suffix('G') {
        (n, 1_000_000_000)
    } else if let Some(n) = t.strip_suffix('T') {
        (n, 1_000_000_000_000)
    } else if let Some(n) = t.strip_suffix('P') {
        (n, 1_000_000_000_000_000)
    } else if let Some(n) = t.strip_suffix('E') {
        (n, 1_000_000_000_000_000_000)
    } else {
        (t, 1)
    };
    decimal_milli(num)?.checked_mul(scale)
}

/// "1.5" -> 1500 (thousandths); at most 3 decimals are kept, more are rounded up.
fn decimal_milli(text: &str) -> Option<i128> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut milli = whole.checked_mul(1000)?;
    let digits: Vec<i128> = frac.chars().map(|c| i128::from(c as u8 - b'0')).collect();
    for (i, d) in digits.iter().take(3).enumerate() {
        milli += d * [100, 10, 1][i];
    }
    if digits.iter().skip(3).any(|&d| d > 0) {
        milli += 1;
    }
    Some(milli)
}

/// Kueue's value of a quantity for resource `resource`: milli-cores for `cpu`, whole units
/// (rounded up) for anything else. Saturates far below `i64::MAX` so sums cannot overflow.
pub fn parse(resource: &str, text: &str) -> Option<i64> {
    let milli = to_milli(text)?;
    let v = if resource == "cpu" {
        milli
    } else {
        (milli + 999).div_euclid(1000)
    };
    Some(v.min(UNLIMITED as i128) as i64)
}

/// Kueue's "Unlimited": larger than any real quota, small enough to add a few together.
pub const UNLIMITED: i64 = i64::MAX / 8;

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
        assert_eq!(parse("cpu", "500m"), Some(500));
        assert_eq!(parse("cpu", "2"), Some(2000));
        assert_eq!(parse("cpu", "1.5"), Some(1500));
        assert_eq!(parse("memory", "36Gi"), Some(36 << 30));
        assert_eq!(parse("memory", "1k"), Some(1000));
        assert_eq!(parse("memory", "1.5Ki"), Some(1536));
        assert_eq!(parse("nvidia.com/gpu", "8"), Some(8));
        // Fractions of non-CPU resources round up.
        assert_eq!(parse("nvidia.com/gpu", "0.5"), Some(1));
        assert_eq!(parse("memory", "100m"), Some(1));
        assert_eq!(parse("cpu", "0.0001"), Some(1));
        for bad in ["", "x", "1x", "-1", "1..2", "Gi"] {
            assert_eq!(parse("cpu", bad), None, "{bad}");
        }
        assert_eq!(show("memory", 36 << 30), "36Gi");
        assert_eq!(show("cpu", 1500), "1500m");
    }
}
