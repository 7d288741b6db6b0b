//! SQLite defaults that read the clock — `CURRENT_TIMESTAMP`, `datetime('now')`,
//! `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`, `unixepoch()` — as PostgreSQL expressions
//! for the column's mapped type.
//!
//! SQLite's clock is UTC unless `'localtime'` is asked for, and its date functions
//! return text; a mapped `timestamp` column therefore gets UTC wall-clock time, a text
//! column the same text SQLite would have stored. Anything not recognised here is left
//! as written for PostgreSQL to judge.

use crate::value::TargetType;

/// A clock reading in SQLite's default syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Clock {
    /// Text in a `strftime` format; `local` for the `'localtime'` modifier.
    Text { format: String, local: bool },
    /// Whole seconds since 1970-01-01 UTC (`unixepoch()`, `strftime('%s', 'now')`).
    Epoch,
    /// The Julian day number, fractional (`julianday('now')`).
    JulianDay,
}

const DATETIME: &str = "%Y-%m-%d %H:%M:%S";
const DATE: &str = "%Y-%m-%d";
const TIME: &str = "%H:%M:%S";

/// The PostgreSQL expression for a SQLite default that reads the clock, for a column of
/// type `target`: `datetime('now')` on a `timestamp` column is
/// `(now() AT TIME ZONE 'UTC')`, `CURRENT_TIMESTAMP` on a text column
/// `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')`. `None` when `default`
/// is not such an expression or has no exact equivalent for that type.
pub(crate) fn clock_default(default: &str, target: TargetType) -> Option<String> {
    let clock = parse(default)?;
    let epoch = "extract(epoch FROM now())";
    match (clock, target) {
        (Clock::Epoch, TargetType::BigInt) => Some(format!("(floor({epoch}))::bigint")),
        (Clock::Epoch, TargetType::Double | TargetType::Numeric) => Some(format!("floor({epoch})")),
        (Clock::Epoch, TargetType::Text) => Some(format!("((floor({epoch}))::bigint)::text")),
        (Clock::JulianDay, TargetType::Double | TargetType::Numeric) => {
            Some(format!("({epoch} / 86400 + 2440587.5)"))
        }
        (Clock::Text { format, local }, target) => {
            // The wall clock SQLite would read, and the same as one operand.
            let (now, operand) = if local {
                ("LOCALTIMESTAMP", "LOCALTIMESTAMP")
            } else {
                ("now() AT TIME ZONE 'UTC'", "(now() AT TIME ZONE 'UTC')")
            };
            match target {
                TargetType::TimestampTz if has_date_and_time(&format) => Some("now()".into()),
                TargetType::Timestamp if has_date_and_time(&format) => Some(operand.to_string()),
                TargetType::Date if format == DATE => Some(format!("({operand})::date")),
                TargetType::Text => Some(format!("to_char({now}, '{}')", to_char_format(&format)?)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a `strftime` format names a whole date and a time of day.
fn has_date_and_time(format: &str) -> bool {
    ["%Y", "%m", "%d", "%H", "%M"]
        .iter()
        .all(|part| format.contains(part))
}

/// Recognises a clock reading: a keyword, or `datetime`, `date`, `time`, `strftime`,
/// `unixepoch` or `julianday` of `'now'` with at most a `'localtime'`/`'utc'` modifier.
fn parse(default: &str) -> Option<Clock> {
    let mut text = default.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    let keyword = |format: &str| {
        Some(Clock::Text {
            format: format.to_string(),
            local: false,
        })
    };
    match text.to_ascii_uppercase().as_str() {
        "CURRENT_TIMESTAMP" => return keyword(DATETIME),
        "CURRENT_DATE" => return keyword(DATE),
        "CURRENT_TIME" => return keyword(TIME),
        _ => {}
    }
    let open = text.find('(')?;
    let name = text[..open].trim().to_ascii_lowercase();
    let arguments = literals(text[open + 1..].strip_suffix(')')?)?;
    let (format, rest) = match name.as_str() {
        "strftime" => {
            let (format, rest) = arguments.split_first()?;
            (Some(format.clone()), rest)
        }
        "datetime" => (Some(DATETIME.to_string()), &arguments[..]),
        "date" => (Some(DATE.to_string()), &arguments[..]),
        "time" => (Some(TIME.to_string()), &arguments[..]),
        "unixepoch" | "julianday" => (None, &arguments[..]),
        _ => return None,
    };
    let local = match rest {
        [] if name == "unixepoch" => false,
        [now] if now.eq_ignore_ascii_case("now") => false,
        [now, modifier] if now.eq_ignore_ascii_case("now") => {
            match modifier.to_ascii_lowercase().as_str() {
                "localtime" => true,
                "utc" => false,
                _ => return None,
            }
        }
        _ => return None,
    };
    match (name.as_str(), format) {
        ("unixepoch", _) if !local => Some(Clock::Epoch),
        ("julianday", _) if !local => Some(Clock::JulianDay),
        (_, Some(format)) if format == "%s" => (!local).then_some(Clock::Epoch),
        (_, Some(format)) => Some(Clock::Text { format, local }),
        _ => None,
    }
}

/// Comma-separated single-quoted literals (`'now', 'localtime'`); `None` if anything
/// else is there. An empty list is allowed (`unixepoch()`).
fn literals(text: &str) -> Option<Vec<String>> {
    let mut values = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let body = rest.strip_prefix('\'')?;
        let mut value = String::new();
        let mut chars = body.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            if c != '\'' {
                value.push(c);
            } else if body[i + 1..].starts_with('\'') {
                value.push('\'');
                chars.next();
            } else {
                break i + 1;
            }
        };
        values.push(value);
        rest = body[end..].trim_start();
        if let Some(next) = rest.strip_prefix(',') {
            rest = next.trim_start();
            if rest.is_empty() {
                return None;
            }
        } else if !rest.is_empty() {
            return None;
        }
    }
    Some(values)
}

/// A `strftime` format as a `to_char` format, or `None` when it uses a conversion
/// `to_char` cannot give exactly (week numbers, weekday 0–6, `%J`, `%s` inside text).
/// Literal text with letters is double-quoted so `to_char` does not read it as a
/// pattern.
fn to_char_format(format: &str) -> Option<String> {
    let mut out = String::new();
    let mut literal = String::new();
    let flush = |literal: &mut String, out: &mut String| {
        if literal.chars().any(|c| c.is_ascii_alphabetic()) {
            out.push('"');
            out.push_str(literal);
            out.push('"');
        } else {
            out.push_str(literal);
        }
        literal.clear();
    };
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            if matches!(c, '"' | '\\' | '\'') {
                return None;
            }
            literal.push(c);
            continue;
        }
        let pattern = match chars.next()? {
            '%' => {
                literal.push('%');
                continue;
            }
            'Y' => "YYYY",
            'm' => "MM",
            'd' => "DD",
            'H' => "HH24",
            'M' => "MI",
            'S' => "SS",
            'f' => "SS.MS",
            'j' => "DDD",
            _ => return None,
        };
        flush(&mut literal, &mut out);
        out.push_str(pattern);
    }
    flush(&mut literal, &mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_functions_of_now_are_clock_readings() {
        let text = |format: &str, local: bool| {
            Some(Clock::Text {
                format: format.into(),
                local,
            })
        };
        assert_eq!(parse("CURRENT_TIMESTAMP"), text(DATETIME, false));
        assert_eq!(parse("((current_date))"), text(DATE, false));
        assert_eq!(parse("datetime('now')"), text(DATETIME, false));
        assert_eq!(
            parse("DateTime ( 'now' , 'localtime' )"),
            text(DATETIME, true)
        );
        assert_eq!(parse("time('now', 'utc')"), text(TIME, false));
        assert_eq!(
            parse("strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"),
            text("%Y-%m-%dT%H:%M:%fZ", false)
        );
        assert_eq!(parse("strftime('%s', 'now')"), Some(Clock::Epoch));
        assert_eq!(parse("unixepoch()"), Some(Clock::Epoch));
        assert_eq!(parse("julianday('now')"), Some(Clock::JulianDay));
    }

    #[test]
    fn other_expressions_are_not() {
        for other in [
            "datetime('now', '+1 day')",
            "datetime(created)",
            "date('2020-01-01')",
            "strftime('%s', 'now', 'localtime')",
            "unixepoch('now', 'localtime')",
            "'now'",
            "lower('now')",
            "datetime('now',)",
            "datetime('now') || 'x'",
            "random()",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }

    #[test]
    fn strftime_formats_become_to_char_formats() {
        assert_eq!(
            to_char_format("%Y-%m-%dT%H:%M:%fZ").as_deref(),
            Some("YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"")
        );
        assert_eq!(
            to_char_format("%d/%m/%Y %%").as_deref(),
            Some("DD/MM/YYYY %")
        );
        assert_eq!(to_char_format("%W"), None);
        assert_eq!(to_char_format("%Y\"x"), None);
    }

    #[test]
    fn each_target_type_gets_its_own_expression() {
        assert_eq!(
            clock_default("CURRENT_TIMESTAMP", TargetType::TimestampTz).as_deref(),
            Some("now()")
        );
        assert_eq!(
            clock_default("datetime('now', 'localtime')", TargetType::Timestamp).as_deref(),
            Some("LOCALTIMESTAMP")
        );
        assert_eq!(
            clock_default("date('now')", TargetType::Date).as_deref(),
            Some("((now() AT TIME ZONE 'UTC'))::date")
        );
        assert_eq!(
            clock_default("strftime('%s','now')", TargetType::BigInt).as_deref(),
            Some("(floor(extract(epoch FROM now())))::bigint")
        );
        assert_eq!(clock_default("date('now')", TargetType::Timestamp), None);
        assert_eq!(clock_default("CURRENT_TIMESTAMP", TargetType::BigInt), None);
    }
}
