//! The current time: the core has no clock, so the Worker supplies "now" for runs that do not
//! say when they happen.

use worker::js_sys::Date;

/// Now, as RFC 3339 in UTC to the second (`2026-11-20T17:00:00Z`).
pub fn now_rfc3339() -> String {
    let iso: String = Date::new_0().to_iso_string().into(); // 2026-11-20T17:00:00.123Z
    whole_seconds(&iso)
}

/// Milliseconds since the Unix epoch (for timings; workerd moves its clock on I/O only).
pub fn now_millis() -> f64 {
    Date::now()
}

/// A moment in milliseconds since the Unix epoch as RFC 3339 in UTC to the second (as
/// [`now_rfc3339`] writes it); `None` out of chrono's range.
pub fn rfc3339_of_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Drops the milliseconds of a JS ISO time stamp.
pub fn whole_seconds(iso: &str) -> String {
    match iso.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn milliseconds_are_written_to_the_second() {
        assert_eq!(
            super::rfc3339_of_ms(1_795_712_400_999).as_deref(),
            Some("2026-11-26T17:00:00Z")
        );
    }

    #[test]
    fn whole_seconds() {
        assert_eq!(
            super::whole_seconds("2026-11-20T17:00:00.123Z"),
            "2026-11-20T17:00:00Z"
        );
        assert_eq!(
            super::whole_seconds("2026-11-20T17:00:00Z"),
            "2026-11-20T17:00:00Z"
        );
    }
}
