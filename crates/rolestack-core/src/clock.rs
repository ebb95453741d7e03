//! The server's clock. Token issue, expiry and credential rotation read it; it can be moved forward
//! (fake-clock mode) so tests can prove rotation and expiry without waiting hours.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::OffsetDateTime;

/// A wall clock with an adjustable offset. Cloning shares the offset. Only a clock made with
/// [`Clock::fake`] may be moved (`rolestack serve --fake-clock`).
#[derive(Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
    fake: bool,
}

impl Clock {
    /// A clock tests can move forward.
    pub fn fake() -> Self {
        Clock { offset_seconds: Arc::default(), fake: true }
    }
    pub fn is_fake(&self) -> bool {
        self.fake
    }
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }
    /// The real time, for checks that must keep working for clients (request timestamps).
    pub fn real_now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    /// Moves a fake clock forward; returns false (and does nothing) on a real clock.
    pub fn advance(&self, by: time::Duration) -> bool {
        if self.fake {
            self.offset_seconds.fetch_add(by.whole_seconds(), Ordering::Relaxed);
        }
        self.fake
    }
    /// Sets a fake clock's offset (read from a store other nodes share, `crate::cluster`).
    pub fn set_offset(&self, seconds: i64) {
        if self.fake {
            self.offset_seconds.store(seconds, Ordering::Relaxed);
        }
    }
    pub fn offset(&self) -> time::Duration {
        time::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }
}

/// The APIs' date format: UTC, whole seconds, `Z`.
const DATE_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// RAM's date format: UTC, seconds, `Z` (`2015-01-23T12:33:18Z`).
pub fn format_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(DATE_FORMAT).expect("a UTC date always formats")
}

/// Parses RAM's date format (`%Y-%m-%dT%H:%M:%SZ`), the only one the SDKs send and accept.
pub fn parse_date(s: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(s, DATE_FORMAT).ok().map(|p| p.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_round_trip() {
        let t = parse_date("2024-01-02T03:04:05Z").unwrap();
        assert_eq!(format_date(t), "2024-01-02T03:04:05Z");
        assert!(parse_date("2024-01-02T03:04:05.123Z").is_none());
        assert!(parse_date("2024-01-02 03:04:05").is_none());
    }

    #[test]
    fn advance_moves_now_not_real_now() {
        let c = Clock::fake();
        assert!(c.advance(time::Duration::hours(5)));
        assert!(c.now() - c.real_now() >= time::Duration::seconds(5 * 3600 - 2));
        let real = Clock::default();
        assert!(!real.advance(time::Duration::hours(5)));
        assert!((real.now() - real.real_now()).whole_seconds().abs() < 2);
    }
}
