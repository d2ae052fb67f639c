//! The billing period, time stamps in the account's zone, proration and usage projection.
//!
//! The period ends at a local day and hour in the account's time zone and starts where the one
//! before it ended: a calendar month earlier, on the account's end day clamped to that month's
//! length (periods ending on the 31st: 28 February, 31 March, 30 April — the one ending 30 April
//! starts on 31 March). Without an end day, a period starts one calendar month before its end
//! (the day clamped: a period ending 31 March starts on the last day of February). Instants are
//! kept as Unix seconds; calendar days come from the zone.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::money::{round_div, Bytes};

/// Parts per million: the unit of the projection margin (1 % = 10,000).
pub const PPM: u64 = 1_000_000;

/// One billing period of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingPeriod {
    /// The account's time zone.
    pub zone: Tz,
    /// First instant of the period (Unix seconds).
    pub start: i64,
    /// The instant the period ends (Unix seconds, exclusive).
    pub end: i64,
    /// Local calendar date the period starts on.
    pub start_date: NaiveDate,
    /// Local calendar date the period ends on.
    pub end_date: NaiveDate,
}

impl BillingPeriod {
    /// The period ending at local date-time `end` in `zone`, starting one calendar month earlier.
    pub fn ending_at(end: NaiveDateTime, zone: Tz) -> Option<Self> {
        let start = end.checked_sub_months(Months::new(1))?;
        Self::between(start, end, zone)
    }

    /// The period ending at local date-time `end` in `zone` of an account whose periods end on
    /// day `end_day` of the month (clamped to the month's length): it starts where the period
    /// before ended, on `end_day` of the month before, at the same hour. `None` when `end` is
    /// not such an end (its day is not `end_day` clamped to its month) or `end_day` is outside
    /// 1–31.
    pub fn ending_on_day(end: NaiveDateTime, zone: Tz, end_day: u32) -> Option<Self> {
        let (date, time) = (end.date(), end.time());
        if !(1..=31).contains(&end_day) || day_in_month(date, end_day)? != date {
            return None;
        }
        let previous = first_of_month(date)?.checked_sub_months(Months::new(1))?;
        let start = day_in_month(previous, end_day)?.and_time(time);
        Self::between(start, end, zone)
    }

    fn between(start: NaiveDateTime, end: NaiveDateTime, zone: Tz) -> Option<Self> {
        Some(BillingPeriod {
            zone,
            start: local_to_instant(start, zone),
            end: local_to_instant(end, zone),
            start_date: start.date(),
            end_date: end.date(),
        })
    }

    /// The period that ends at the first midnight of the month after the one holding `instant`:
    /// the default when an account names no period end.
    pub fn calendar_month_of(instant: i64, zone: Tz) -> Option<Self> {
        // Periods that end on the 1st at midnight.
        Self::ending_at(next_end(instant, zone, 1, 0)?, zone)
    }

    /// Calendar days in the period (28–31).
    pub fn days(&self) -> u32 {
        (self.end_date - self.start_date).num_days().max(1) as u32
    }

    /// Length in seconds.
    pub fn seconds(&self) -> i64 {
        self.end - self.start
    }

    /// Days a SIM activated on `activated_on` is billed for, when that falls inside the period;
    /// `None` when the SIM is billed for the whole period. A SIM activated on the last day (or
    /// later) is billed for one day.
    pub fn active_days(&self, activated_on: NaiveDate) -> Option<u32> {
        if activated_on <= self.start_date {
            return None;
        }
        let days = (self.end_date - activated_on).num_days();
        Some(days.clamp(1, i64::from(self.days())) as u32)
    }

    /// Formats an instant as RFC 3339 in the account's zone (`2026-11-22T00:00:00-05:00`).
    pub fn format_instant(&self, instant: i64) -> String {
        DateTime::from_timestamp(instant, 0)
            .map(|t| t.with_timezone(&self.zone).to_rfc3339())
            .unwrap_or_default()
    }
}

/// The end of the billing period holding `instant`, for an account whose periods end on day
/// `end_day` of the month (clamped to the month's length: 31 ends February on its last day) at
/// `end_hour` o'clock local time in `zone`: the first such local date-time after `instant` (the end
/// is exclusive, so at the very end the next period has begun). `None` for a day outside 1–31,
/// an hour outside 0–23, or an instant out of range.
pub fn next_end(instant: i64, zone: Tz, end_day: u32, end_hour: u32) -> Option<NaiveDateTime> {
    if !(1..=31).contains(&end_day) || end_hour > 23 {
        return None;
    }
    let local = DateTime::from_timestamp(instant, 0)?
        .with_timezone(&zone)
        .naive_local();
    let first = first_of_month(local.date())?;
    let end_in = |months: u32| -> Option<NaiveDateTime> {
        let month = first.checked_add_months(Months::new(months))?;
        Some(day_in_month(month, end_day)?.and_time(NaiveTime::from_hms_opt(end_hour, 0, 0)?))
    };
    let this_month = end_in(0)?;
    if local_to_instant(this_month, zone) > instant {
        Some(this_month)
    } else {
        end_in(1)
    }
}

/// The first day of `date`'s month.
fn first_of_month(date: NaiveDate) -> Option<NaiveDate> {
    Datelike::with_day(&date, 1)
}

/// Days in `date`'s month (28–31).
fn month_days(date: NaiveDate) -> Option<u32> {
    let first = first_of_month(date)?;
    Some(
        first
            .checked_add_months(Months::new(1))?
            .signed_duration_since(first)
            .num_days() as u32,
    )
}

/// Day `day` of `date`'s month, clamped to the month's length.
fn day_in_month(date: NaiveDate, day: u32) -> Option<NaiveDate> {
    Datelike::with_day(&date, day.min(month_days(date)?))
}

/// The days before a period's end in which scheduled optimizations run (DESIGN §4).
pub const SCHEDULE_DAYS: u64 = 8;

/// Whether the hourly schedule should start an optimization at `instant` for an account whose
/// periods end on `end_day` at `end_hour` in `zone` and whose runs start at or after
/// `start_hour` local time; `started` are the instants (Unix seconds) sessions of the period
/// running at `instant` were started. Answers the period's end (local) when one is due:
///
/// - inside the last [`SCHEDULE_DAYS`] days of the period, at or after the start hour;
/// - once per period — and once more on its final day (usage has grown since), so a session
///   started on an earlier day is followed by one rerun on the final day.
pub fn scheduled_start(
    instant: i64,
    zone: Tz,
    end_day: u32,
    end_hour: u32,
    start_hour: u32,
    started: &[i64],
) -> Option<NaiveDateTime> {
    let end = next_end(instant, zone, end_day, end_hour)?;
    let local = DateTime::from_timestamp(instant, 0)?
        .with_timezone(&zone)
        .naive_local();
    let opens = end.checked_sub_days(chrono::Days::new(SCHEDULE_DAYS))?;
    if local < opens || chrono::Timelike::hour(&local) < start_hour {
        return None;
    }
    // The period's last calendar day: the day of its end, or the day before an end at midnight.
    let final_day = (end - chrono::Duration::seconds(1)).date();
    let local_date = |t: i64| {
        DateTime::from_timestamp(t, 0).map(|d| d.with_timezone(&zone).naive_local().date())
    };
    let due = if started.is_empty() {
        true
    } else {
        local.date() == final_day && !started.iter().any(|&t| local_date(t) == Some(final_day))
    };
    due.then_some(end)
}

/// A local date-time in `zone` as Unix seconds. A time skipped by a daylight-saving change maps to
/// the first instant after the gap; a repeated time to its first occurrence.
pub fn local_to_instant(local: NaiveDateTime, zone: Tz) -> i64 {
    let mut probe = local;
    for _ in 0..4 {
        if let Some(t) = zone.from_local_datetime(&probe).earliest() {
            return t.timestamp();
        }
        probe += chrono::Duration::minutes(30);
    }
    local.and_utc().timestamp()
}

/// Parses a time stamp: `YYYY-MM-DDTHH:MM[:SS]` (or with a space) in `zone`, RFC 3339 with an
/// offset, or a bare date (its midnight in `zone`). Returns Unix seconds.
pub fn parse_instant(text: &str, zone: Tz) -> Option<i64> {
    let text = text.trim();
    if let Some(local) = parse_local_fast(text.as_bytes()) {
        return Some(local_to_instant(local, zone));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    parse_local(text).map(|local| local_to_instant(local, zone))
}

/// Parses a local date-time without offset: `YYYY-MM-DDTHH:MM[:SS]`, a space instead of `T`, or a
/// bare date (midnight).
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Some(t) = parse_local_fast(text.as_bytes()) {
        return Some(t);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t);
        }
    }
    parse_date(text).map(|d| d.and_time(NaiveTime::MIN))
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    parse_date_fast(text.as_bytes()).or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
}

/// The documented forms, read byte by byte (a million SIMs carry two time stamps each); anything
/// else falls back to chrono's parser, which gives the same answers more slowly.
fn parse_local_fast(b: &[u8]) -> Option<NaiveDateTime> {
    let date = parse_date_fast(b.get(..10)?)?;
    match b.len() {
        10 => Some(date.and_time(NaiveTime::MIN)),
        16 | 19 if matches!(b[10], b'T' | b' ') && b[13] == b':' => {
            let hour = two_digits(b[11], b[12])?;
            let minute = two_digits(b[14], b[15])?;
            let second = if b.len() == 19 {
                if b[16] != b':' {
                    return None;
                }
                two_digits(b[17], b[18])?
            } else {
                0
            };
            date.and_hms_opt(hour, minute, second)
        }
        _ => None,
    }
}

fn parse_date_fast(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = two_digits(b[0], b[1])? * 100 + two_digits(b[2], b[3])?;
    NaiveDate::from_ymd_opt(
        year as i32,
        two_digits(b[5], b[6])?,
        two_digits(b[8], b[9])?,
    )
}

fn two_digits(a: u8, b: u8) -> Option<u32> {
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
}

/// Why a SIM's usage was or was not projected to the end of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// Scaled up to the period end (with the margin).
    Projected,
    /// Projection is switched off for the account.
    Off,
    /// The run is at or after the period end: usage is final.
    PeriodClosed,
    /// The SIM is deactivated or retired: it will not use more.
    Inactive,
    /// The usage was read before the period started or after it ended.
    OutsidePeriod,
    /// The usage was read at the very end of the period: it is final.
    Complete,
}

/// Projects usage read at `read_at` to the period end:
/// `usage × period length / elapsed at read_at × (1 + margin)`, rounded to the nearest byte.
pub fn project_usage(
    usage: Bytes,
    read_at: i64,
    period: &BillingPeriod,
    margin_ppm: u64,
) -> (Bytes, Projection) {
    if read_at < period.start || read_at > period.end {
        return (usage, Projection::OutsidePeriod);
    }
    let elapsed = read_at - period.start;
    if read_at == period.end || elapsed <= 0 {
        return (usage, Projection::Complete);
    }
    let numerator =
        i128::from(usage.0) * i128::from(period.seconds()) * i128::from(PPM + margin_ppm);
    let denominator = i128::from(elapsed) * i128::from(PPM);
    (
        Bytes(round_div(numerator, denominator) as u64),
        Projection::Projected,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_schedule_opens_eight_days_before_the_end_at_the_start_hour() {
        let zone: Tz = "America/New_York".parse().expect("zone");
        let at = |text: &str| parse_instant(text, zone).expect("instant");
        let due = |now: &str, started: &[i64]| scheduled_start(at(now), zone, 1, 0, 6, started);
        let end = parse_local("2026-12-01T00:00");
        // The period ends 1 December 00:00 local: the window opens 23 November 00:00.
        assert_eq!(due("2026-11-22T23:00", &[]), None, "before the window");
        assert_eq!(due("2026-11-23T05:59", &[]), None, "before the start hour");
        assert_eq!(
            due("2026-11-23T06:00", &[]),
            end,
            "first hour of the window"
        );
        // Started on the 23rd: nothing more until the final day (30 November), then once.
        let first = at("2026-11-23T06:00");
        assert_eq!(due("2026-11-24T10:00", &[first]), None);
        assert_eq!(
            due("2026-11-30T05:00", &[first]),
            None,
            "final day, before the hour"
        );
        assert_eq!(
            due("2026-11-30T06:00", &[first]),
            end,
            "the final day's rerun"
        );
        let rerun = at("2026-11-30T06:00");
        assert_eq!(
            due("2026-11-30T07:00", &[first, rerun]),
            None,
            "one rerun only"
        );
        // First start on the final day: that is the period's run.
        assert_eq!(due("2026-11-30T23:00", &[]), end);
        // The end is exclusive: at midnight the next period runs (its window not yet open).
        assert_eq!(due("2026-12-01T00:00", &[first, rerun]), None);
    }

    #[test]
    fn the_final_day_of_a_period_ending_in_the_afternoon_is_its_end_day() {
        let zone: Tz = "UTC".parse().expect("zone");
        let at = |text: &str| parse_instant(text, zone).expect("instant");
        let first = at("2026-11-20T09:00");
        // Ends 22 November 17:00: the 22nd is its final day.
        let due = |now: &str| scheduled_start(at(now), zone, 22, 17, 8, &[first]);
        assert_eq!(due("2026-11-21T09:00"), None);
        assert_eq!(due("2026-11-22T08:00"), parse_local("2026-11-22T17:00"));
    }

    use super::*;

    fn dt(text: &str) -> NaiveDateTime {
        parse_local(text).unwrap_or_default()
    }

    #[test]
    fn period_is_one_calendar_month_in_the_zone() {
        let ny: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        let p = BillingPeriod::ending_at(dt("2026-11-22T00:00"), ny);
        let p = p.expect("valid period");
        assert_eq!(p.start_date.to_string(), "2026-10-22");
        assert_eq!(p.days(), 31);
        // 31 days plus the hour gained when DST ends on 1 November.
        assert_eq!(p.seconds(), 31 * 86_400 + 3_600);
        assert_eq!(p.format_instant(p.end), "2026-11-22T00:00:00-05:00");
        assert_eq!(p.format_instant(p.start), "2026-10-22T00:00:00-04:00");
    }

    #[test]
    fn month_end_clamps() {
        let p = BillingPeriod::ending_at(dt("2026-03-31T00:00"), Tz::UTC).expect("period");
        assert_eq!(p.start_date.to_string(), "2026-02-28");
        assert_eq!(p.days(), 31);
    }

    #[test]
    fn periods_of_an_end_day_follow_each_other_without_gap_or_overlap() {
        // End day 31: February, April and June end clamped; each period starts where the one
        // before ended, and their days add up to the year.
        let (zone, mut days) = (Tz::UTC, 0);
        let mut at = parse_instant("2026-01-31T12:00", zone).expect("instant");
        let mut previous: Option<BillingPeriod> = None;
        for _ in 0..12 {
            let end = next_end(at, zone, 31, 0).expect("end");
            let p = BillingPeriod::ending_on_day(end, zone, 31).expect("period");
            if let Some(before) = previous {
                assert_eq!(
                    p.start, before.end,
                    "{} starts where {} ended",
                    p.end_date, before.end_date
                );
            }
            days += p.days();
            at = p.end;
            previous = Some(p);
        }
        assert_eq!(days, 365);
        let april = BillingPeriod::ending_on_day(dt("2026-04-30T00:00"), zone, 31).expect("period");
        assert_eq!(april.start_date.to_string(), "2026-03-31");
        assert_eq!(april.days(), 30);
        // Without the end day, one month before 30 April is 30 March.
        let month = BillingPeriod::ending_at(dt("2026-04-30T00:00"), zone).expect("period");
        assert_eq!(month.start_date.to_string(), "2026-03-30");
        let march = BillingPeriod::ending_on_day(dt("2026-03-31T09:00"), zone, 31).expect("period");
        assert_eq!(
            march.format_instant(march.start),
            "2026-02-28T09:00:00+00:00"
        );
        // Not an end of that account: the 29th of April for day 31, or a day out of range.
        assert_eq!(
            BillingPeriod::ending_on_day(dt("2026-04-29T00:00"), zone, 31),
            None
        );
        assert_eq!(
            BillingPeriod::ending_on_day(dt("2026-04-30T00:00"), zone, 0),
            None
        );
        // Day 30 ends February on the 28th; March's period then starts there.
        let p = BillingPeriod::ending_on_day(dt("2026-03-30T00:00"), zone, 30).expect("period");
        assert_eq!(p.start_date.to_string(), "2026-02-28");
    }

    #[test]
    fn default_period_is_the_calendar_month() {
        let at = parse_instant("2026-02-10T12:00", Tz::UTC).unwrap_or_default();
        let p = BillingPeriod::calendar_month_of(at, Tz::UTC).expect("period");
        assert_eq!(
            (p.start_date.to_string(), p.end_date.to_string()),
            ("2026-02-01".into(), "2026-03-01".into())
        );
        assert_eq!(p.days(), 28);
    }

    #[test]
    fn active_days_count_the_activation_day() {
        let p = BillingPeriod::ending_at(dt("2026-11-01T00:00"), Tz::UTC).expect("period");
        let d = |s: &str| parse_date(s).unwrap_or_default();
        assert_eq!(p.active_days(d("2026-10-01")), None); // on the first day: whole period
        assert_eq!(p.active_days(d("2026-09-15")), None);
        assert_eq!(p.active_days(d("2026-10-25")), Some(7)); // 25..31 October
        assert_eq!(p.active_days(d("2026-10-31")), Some(1));
        assert_eq!(p.active_days(d("2026-11-05")), Some(1)); // after the end: one day
    }

    #[test]
    fn projection_scales_by_elapsed_time_and_margin() {
        let p = BillingPeriod::ending_at(dt("2026-11-01T00:00"), Tz::UTC).expect("period");
        let halfway = p.start + p.seconds() / 2;
        // 100 MB at half time, 1 % margin: 100 × 2 × 1.01 = 202 MB
        assert_eq!(
            project_usage(Bytes::from_mb(100), halfway, &p, 10_000),
            (Bytes::from_mb(202), Projection::Projected)
        );
        assert_eq!(
            project_usage(Bytes::from_mb(100), p.end, &p, 10_000).1,
            Projection::Complete
        );
        assert_eq!(
            project_usage(Bytes::from_mb(100), p.start - 1, &p, 10_000).1,
            Projection::OutsidePeriod
        );
    }

    #[test]
    fn the_fast_path_agrees_with_chrono() {
        for text in [
            "2026-11-10",
            "2026-11-10T08:30",
            "2026-11-10 08:30",
            "2026-11-10T08:30:59",
            "2026-02-29",
            "2026-13-01",
            "2026-11-10T24:00",
            "2026-11-10T08:60",
            "2026-11-1",
            "2026/11/10",
            "2026-11-10T08:30:5",
            "2024-02-29T23:59:59",
            "0999-01-01",
        ] {
            let slow = [
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            .or_else(|| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .map(|d| d.and_time(NaiveTime::MIN))
            });
            assert_eq!(parse_local(text), slow, "{text}");
        }
    }

    #[test]
    fn timestamps_accept_offsets_and_local_forms() {
        let ny: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        let a = parse_instant("2026-11-10T08:30", ny);
        let b = parse_instant("2026-11-10T13:30:00Z", ny);
        let c = parse_instant("2026-11-10 08:30:00", ny);
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(parse_instant("10/11/2026", ny), None);
        // 02:30 on 8 March 2026 does not exist in New York: the first instant after the gap.
        assert_eq!(
            parse_instant("2026-03-08T02:30", ny),
            parse_instant("2026-03-08T03:00", ny)
        );
    }

    #[test]
    fn next_end_of_an_account_period() {
        let utc = |text: &str| parse_instant(text, Tz::UTC).unwrap_or_default();
        let end =
            |at: &str, day, hour| next_end(utc(at), Tz::UTC, day, hour).map(|e| e.to_string());
        assert_eq!(
            end("2026-11-20T12:00", 22, 0).as_deref(),
            Some("2026-11-22 00:00:00")
        );
        assert_eq!(
            end("2026-11-22T00:00", 22, 0).as_deref(),
            Some("2026-12-22 00:00:00")
        );
        assert_eq!(
            end("2026-11-23T00:00", 22, 6).as_deref(),
            Some("2026-12-22 06:00:00")
        );
        // Day 31 is the month's last day; day 1 at midnight is the calendar month.
        assert_eq!(
            end("2026-02-10T00:00", 31, 0).as_deref(),
            Some("2026-02-28 00:00:00")
        );
        assert_eq!(
            end("2028-02-29T00:00", 31, 0).as_deref(),
            Some("2028-03-31 00:00:00")
        );
        assert_eq!(
            end("2026-12-31T23:59", 1, 0).as_deref(),
            Some("2027-01-01 00:00:00")
        );
        assert_eq!(end("2026-11-20T12:00", 0, 0), None);
        assert_eq!(end("2026-11-20T12:00", 32, 0), None);
        assert_eq!(end("2026-11-20T12:00", 1, 24), None);
        // The end is local: 22 November 00:00 in New York is 05:00 UTC.
        let ny: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        let at = utc("2026-11-22T04:59");
        assert_eq!(
            next_end(at, ny, 22, 0).map(|e| e.to_string()).as_deref(),
            Some("2026-11-22 00:00:00")
        );
        let at = utc("2026-11-22T05:00");
        assert_eq!(
            next_end(at, ny, 22, 0).map(|e| e.to_string()).as_deref(),
            Some("2026-12-22 00:00:00")
        );
    }
}
