//! Converting one SQLite value to the PostgreSQL binary form of its target type.
//!
//! [`TargetType`] is what a SQLite column becomes; [`encode`] turns a value into the
//! exact bytes binary `COPY` sends for it (the same bytes the server's `*_send` function
//! gives back, which is what the checksum compares), or says why it cannot be converted
//! without loss. Nothing here touches a database.

use rusqlite::types::ValueRef;
use serde::Serialize;
use std::fmt;

/// The PostgreSQL type a SQLite column is copied into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    /// `bigint`: SQLite integers (every SQLite integer is 64-bit).
    #[serde(rename = "bigint")]
    BigInt,
    /// `boolean`: a declared BOOLEAN/BOOL column holding 0 and 1.
    Boolean,
    /// `date`: a DATE column holding `YYYY-MM-DD` text.
    Date,
    /// `timestamp`: DATETIME/TIMESTAMP text without a time zone.
    Timestamp,
    /// `timestamptz`: DATETIME/TIMESTAMP text where every value names its offset.
    TimestampTz,
    /// `double precision`: REAL.
    Double,
    /// `numeric`: NUMERIC/DECIMAL.
    Numeric,
    /// `bytea`: BLOB.
    Bytea,
    /// `text`: TEXT and everything else.
    Text,
}

impl TargetType {
    /// The type as PostgreSQL spells it (`format_type`'s canonical form).
    ///
    /// ```
    /// use schemasync_copy::TargetType;
    /// assert_eq!(TargetType::Double.sql(), "double precision");
    /// assert_eq!(TargetType::Timestamp.to_string(), "timestamp without time zone");
    /// ```
    pub fn sql(self) -> &'static str {
        match self {
            TargetType::BigInt => "bigint",
            TargetType::Boolean => "boolean",
            TargetType::Date => "date",
            TargetType::Timestamp => "timestamp without time zone",
            TargetType::TimestampTz => "timestamp with time zone",
            TargetType::Double => "double precision",
            TargetType::Numeric => "numeric",
            TargetType::Bytea => "bytea",
            TargetType::Text => "text",
        }
    }
}

impl fmt::Display for TargetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

/// Why a value cannot be converted exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A value of the wrong storage class for the target (text in an INTEGER column).
    WrongKind(&'static str),
    /// A REAL that is not an exact 64-bit integer, in an integer column.
    NotAnInteger,
    /// A number out of the target's range.
    OutOfRange,
    /// A boolean column value other than 0 and 1.
    NotBoolean,
    /// Text that is not valid UTF-8.
    InvalidUtf8,
    /// Text holding a NUL character, which PostgreSQL text cannot store.
    Nul,
    /// Text that does not parse as the date or timestamp the column holds.
    BadDate,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::WrongKind(kind) => write!(f, "a {kind} value"),
            Refusal::NotAnInteger => f.write_str("not an exact 64-bit integer"),
            Refusal::OutOfRange => f.write_str("out of range"),
            Refusal::NotBoolean => f.write_str("neither 0 nor 1"),
            Refusal::InvalidUtf8 => f.write_str("text that is not valid UTF-8"),
            Refusal::Nul => f.write_str("text holding a NUL character"),
            Refusal::BadDate => f.write_str("not in the column's date/time form"),
        }
    }
}

/// The name of a value's SQLite storage class.
pub(crate) fn storage_class(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "integer",
        ValueRef::Real(_) => "real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "blob",
    }
}

/// Appends the binary form of `value` as `target` to `out`. `Ok(false)` for NULL
/// (nothing appended).
pub(crate) fn encode(
    value: ValueRef<'_>,
    target: TargetType,
    out: &mut Vec<u8>,
) -> Result<bool, Refusal> {
    if let ValueRef::Null = value {
        return Ok(false);
    }
    match (target, value) {
        (TargetType::BigInt, ValueRef::Integer(i)) => out.extend_from_slice(&i.to_be_bytes()),
        (TargetType::BigInt, ValueRef::Real(_)) => return Err(Refusal::NotAnInteger),
        (TargetType::Boolean, ValueRef::Integer(i)) => match i {
            0 | 1 => out.push(i as u8),
            _ => return Err(Refusal::NotBoolean),
        },
        (TargetType::Double, ValueRef::Real(r)) => {
            out.extend_from_slice(&r.to_bits().to_be_bytes())
        }
        (TargetType::Double, ValueRef::Integer(i)) => {
            let r = i as f64;
            // Exact only when the integer survives the round trip.
            if r as i128 == i128::from(i) {
                out.extend_from_slice(&r.to_bits().to_be_bytes());
            } else {
                return Err(Refusal::OutOfRange);
            }
        }
        (TargetType::Numeric, ValueRef::Integer(i)) => {
            numeric_from_decimal(i < 0, i.unsigned_abs().to_string().as_bytes(), 0, out)
        }
        (TargetType::Numeric, ValueRef::Real(r)) => numeric_from_f64(r, out),
        (TargetType::Bytea, ValueRef::Blob(b)) => out.extend_from_slice(b),
        (TargetType::Text, ValueRef::Text(t)) => out.extend_from_slice(checked_text(t)?.as_bytes()),
        (TargetType::Text, ValueRef::Integer(i)) => out.extend_from_slice(i.to_string().as_bytes()),
        (TargetType::Text, ValueRef::Real(r)) => out.extend_from_slice(real_as_text(r).as_bytes()),
        (TargetType::Date, ValueRef::Text(t)) => {
            let parsed = parse_datetime(checked_text(t)?).ok_or(Refusal::BadDate)?;
            if parsed.has_time || parsed.offset_minutes.is_some() {
                return Err(Refusal::BadDate);
            }
            let days = i32::try_from(parsed.days).map_err(|_| Refusal::OutOfRange)?;
            out.extend_from_slice(&days.to_be_bytes());
        }
        (TargetType::Timestamp | TargetType::TimestampTz, ValueRef::Text(t)) => {
            let parsed = parse_datetime(checked_text(t)?).ok_or(Refusal::BadDate)?;
            let zoned = parsed.offset_minutes.is_some();
            if zoned != (target == TargetType::TimestampTz) {
                return Err(Refusal::BadDate);
            }
            out.extend_from_slice(&parsed.utc_micros().to_be_bytes());
        }
        (_, other) => return Err(Refusal::WrongKind(storage_class(other))),
    }
    Ok(true)
}

/// Text that PostgreSQL can store as it is: valid UTF-8 without NUL.
fn checked_text(bytes: &[u8]) -> Result<&str, Refusal> {
    let text = std::str::from_utf8(bytes).map_err(|_| Refusal::InvalidUtf8)?;
    if text.contains('\0') {
        return Err(Refusal::Nul);
    }
    Ok(text)
}

/// A REAL as text in a text column: the shortest form that reads back as the same
/// double (`0.1`, `1e300`, `-0.0`, `Infinity`).
pub(crate) fn real_as_text(r: f64) -> String {
    if r.is_infinite() {
        if r > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else {
        format!("{r:?}")
    }
}

/// PostgreSQL `numeric` binary form of a double: its shortest exact decimal (what
/// reads back as the same double), `NaN`, or ±`Infinity`.
fn numeric_from_f64(r: f64, out: &mut Vec<u8>) {
    const NAN: u16 = 0xC000;
    const PINF: u16 = 0xD000;
    const NINF: u16 = 0xF000;
    let special = if r.is_nan() {
        Some(NAN)
    } else if r == f64::INFINITY {
        Some(PINF)
    } else if r == f64::NEG_INFINITY {
        Some(NINF)
    } else {
        None
    };
    if let Some(sign) = special {
        // The display scale the server's `numeric_send` reports for a special value:
        // its short header's scale bits, 32 for ±Infinity and 0 for NaN. Sending the
        // same keeps the tuple identical to what verification reads back.
        let dscale = (sign & 0x1F80) >> 7;
        out.extend_from_slice(&0i16.to_be_bytes());
        out.extend_from_slice(&0i16.to_be_bytes());
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&dscale.to_be_bytes());
        return;
    }
    // `{:e}` is the shortest round-trip form: `1.2345e-7`.
    let text = format!("{:e}", r.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    let scale = exponent - i32::try_from(frac_part.len()).unwrap_or(0);
    numeric_from_decimal(r.is_sign_negative(), &digits, scale, out);
}

/// PostgreSQL `numeric` binary form of `±digits × 10^exponent` (ASCII digits), in the
/// canonical form the server stores (leading and trailing zero groups stripped, zero
/// positive), with display scale `max(0, -exponent)` after trailing zeros are removed.
fn numeric_from_decimal(negative: bool, digits: &[u8], exponent: i32, out: &mut Vec<u8>) {
    let mut digits: Vec<u8> = digits
        .iter()
        .skip_while(|d| **d == b'0')
        .map(|d| d - b'0')
        .collect();
    let mut exponent = exponent;
    while digits.last() == Some(&0) {
        digits.pop();
        exponent += 1;
    }
    let dscale = u16::try_from((-exponent).max(0)).unwrap_or(u16::MAX);
    if digits.is_empty() {
        out.extend_from_slice(&0i16.to_be_bytes());
        out.extend_from_slice(&0i16.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        return;
    }
    // Align the lowest digit's power down to a multiple of 4 (base 10000 groups).
    let low = exponent.div_euclid(4) * 4;
    let mut padded = digits;
    padded.extend(std::iter::repeat_n(
        0,
        usize::try_from(exponent - low).unwrap_or(0),
    ));
    let lead = (4 - padded.len() % 4) % 4;
    let mut all = vec![0u8; lead];
    all.extend(padded);
    let groups: Vec<i16> = all
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(*d)))
        .collect();
    let count = i32::try_from(groups.len()).unwrap_or(0);
    let mut weight = low / 4 + count - 1;
    let mut start = 0;
    while start < groups.len() && groups[start] == 0 {
        start += 1;
        weight -= 1;
    }
    let mut end = groups.len();
    while end > start && groups[end - 1] == 0 {
        end -= 1;
    }
    let kept = &groups[start..end];
    out.extend_from_slice(&i16::try_from(kept.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(&i16::try_from(weight).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(&(if negative { 0x4000u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&dscale.to_be_bytes());
    for group in kept {
        out.extend_from_slice(&group.to_be_bytes());
    }
}

/// A date or timestamp read from SQLite text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateTime {
    /// Days since 2000-01-01 (PostgreSQL's epoch), proleptic Gregorian.
    pub days: i64,
    /// Microseconds since midnight, local to the text.
    pub micros: i64,
    /// Whether the text had a time part.
    pub has_time: bool,
    /// The UTC offset the text named (`Z` is 0), if any.
    pub offset_minutes: Option<i64>,
}

impl DateTime {
    /// Microseconds since 2000-01-01 00:00:00 (UTC when an offset was given).
    pub fn utc_micros(&self) -> i64 {
        let offset = self.offset_minutes.unwrap_or(0) * 60_000_000;
        self.days * 86_400_000_000 + self.micros - offset
    }
}

/// Parses the ISO-8601 forms SQLite's date functions read and write:
/// `YYYY-MM-DD`, then optionally `[ T]HH:MM[:SS[.F…]]` (at most 6 fraction digits: more
/// would be lost), then optionally `Z` or `±HH:MM`. `None` for anything else or an
/// impossible date.
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0, |a, d| a * 10 + i64::from(d - b'0')))
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut parsed = DateTime {
        days: days_from_civil(year, month, day) - days_from_civil(2000, 1, 1),
        micros: 0,
        has_time: false,
        offset_minutes: None,
    };
    let mut i = 10;
    if i < b.len() && (b[i] == b' ' || b[i] == b'T') {
        let (hour, minute) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
        if b.get(i + 3) != Some(&b':') || hour > 23 || minute > 59 {
            return None;
        }
        let mut micros = (hour * 60 + minute) * 60_000_000;
        i += 6;
        if b.get(i) == Some(&b':') {
            let second = num(i + 1..i + 3)?;
            if second > 59 {
                return None;
            }
            micros += second * 1_000_000;
            i += 3;
            if b.get(i) == Some(&b'.') {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                if end == start || end - start > 6 {
                    return None;
                }
                let fraction = num(start..end)?;
                let digits = u32::try_from(end - start).ok()?;
                micros += fraction * 10i64.pow(6 - digits);
                i = end;
            }
        }
        parsed.micros = micros;
        parsed.has_time = true;
    }
    match b.get(i) {
        None => {}
        Some(b'Z') if i + 1 == b.len() => parsed.offset_minutes = Some(0),
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (hours, minutes) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 60 + minutes;
            parsed.offset_minutes = Some(if *sign == b'-' { -offset } else { offset });
        }
        Some(_) => return None,
    }
    Some(parsed)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn numeric(r: f64) -> Vec<u8> {
        let mut out = Vec::new();
        numeric_from_f64(r, &mut out);
        out
    }

    fn words(bytes: &[u8]) -> Vec<i16> {
        bytes
            .chunks(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn numeric_groups_follow_postgres() {
        // 12345.678 = 1 2345 . 6780, weight 1, dscale 3
        assert_eq!(words(&numeric(12345.678)), vec![3, 1, 0, 3, 1, 2345, 6780]);
        // 0.1: one group 1000 at weight -1, dscale 1
        assert_eq!(words(&numeric(0.1)), vec![1, -1, 0, 1, 1000]);
        // 1e8: one group 1 at weight 2
        assert_eq!(words(&numeric(1e8)), vec![1, 2, 0, 0, 1]);
        assert_eq!(words(&numeric(-2.5)), vec![2, 0, 0x4000, 1, 2, 5000]);
        assert_eq!(words(&numeric(0.0)), vec![0, 0, 0, 0]);
    }

    #[test]
    fn dates_and_times_parse_exactly() {
        let d = parse_datetime("2000-01-02").unwrap();
        assert_eq!((d.days, d.has_time), (1, false));
        let t = parse_datetime("2000-01-01 00:00:01.5").unwrap();
        assert_eq!(t.utc_micros(), 1_500_000);
        let z = parse_datetime("2000-01-01T02:00:00+02:00").unwrap();
        assert_eq!(z.utc_micros(), 0);
        assert!(parse_datetime("2023-02-29").is_none());
        assert!(parse_datetime("2024-02-29 24:00").is_none());
        assert!(parse_datetime("2024-01-01 00:00:00.1234567").is_none());
        assert!(parse_datetime("yesterday").is_none());
        assert_eq!(parse_datetime("1970-01-01").unwrap().days, -10957);
    }
}
