use proptest::prelude::*;

use super::*;

fn city_hours(tz: &str) -> BusinessCalendar {
    let toml = format!(
        r#"
        name = "city"
        time_zone = "{tz}"
        [hours]
        mon = ["08:00-12:00", "13:00-17:00"]
        tue = ["08:00-12:00", "13:00-17:00"]
        wed = ["08:00-12:00", "13:00-17:00"]
        thu = ["08:00-12:00", "13:00-17:00"]
        fri = ["08:00-12:00", "13:00-17:00"]
        [[holiday]]
        name = "Thanksgiving"
        nth_weekday = {{ month = 11, weekday = "thu", n = 4 }}
        [[holiday]]
        name = "Day after Thanksgiving"
        date = "2026-11-27"
        [[holiday]]
        name = "Independence Day"
        annual = "07-04"
        observed = true
        [[holiday]]
        name = "Memorial Day"
        nth_weekday = {{ month = 5, weekday = "mon", n = -1 }}
        "#
    );
    BusinessCalendar::new(&toml::from_str(&toml).unwrap()).unwrap()
}

fn night_shift() -> BusinessCalendar {
    let c = CalendarConfig {
        name: "night".into(),
        time_zone: "America/Denver".into(),
        always_open: false,
        hours: DAYS.iter().map(|(d, _)| ((*d).to_owned(), vec!["00:00-04:00".to_owned()])).collect(),
        holidays: vec![],
    };
    BusinessCalendar::new(&c).unwrap()
}

fn at(s: &str, tz: &str) -> Timestamp {
    s.parse::<jiff::civil::DateTime>().unwrap().to_zoned(TimeZone::get(tz).unwrap()).unwrap().timestamp()
}

const DENVER: &str = "America/Denver";

#[test]
fn friday_afternoon_before_a_holiday_weekend() {
    let cal = city_hours(DENVER);
    // Wednesday before Thanksgiving 2026, 16:55: 5 minutes left that day, Thursday and
    // Friday are holidays, so 1 hour of business time ends Monday 08:55.
    let start = at("2026-11-25T16:55", DENVER);
    assert_eq!(cal.add(start, SignedDuration::from_hours(1)), Some(at("2026-11-30T08:55", DENVER)));
    // A Friday 16:55 with 8 business hours: Monday 16:55 (lunch hour skipped).
    let fri = at("2026-11-20T16:55", DENVER);
    assert_eq!(cal.add(fri, SignedDuration::from_hours(8)), Some(at("2026-11-23T16:55", DENVER)));
}

#[test]
fn holidays_follow_their_rules() {
    let cal = city_hours(DENVER);
    let d = |s: &str| s.parse::<Date>().unwrap();
    assert!(cal.is_holiday(d("2026-11-26")));
    assert!(cal.is_holiday(d("2027-11-25")));
    assert!(!cal.is_holiday(d("2027-11-26")));
    assert!(cal.is_holiday(d("2026-05-25")));
    // 4 July 2026 is a Saturday: observed on Friday the 3rd.
    assert!(cal.is_holiday(d("2026-07-03")));
    // 4 July 2027 is a Sunday: observed on Monday the 5th.
    assert!(cal.is_holiday(d("2027-07-05")));
    assert!(!cal.is_holiday(d("2027-07-02")));
}

#[test]
fn outside_hours_the_clock_starts_at_the_next_window() {
    let cal = city_hours(DENVER);
    let sat = at("2026-11-21T10:00", DENVER);
    assert_eq!(cal.add(sat, SignedDuration::from_mins(30)), Some(at("2026-11-23T08:30", DENVER)));
    assert_eq!(cal.between(sat, at("2026-11-23T08:30", DENVER)), SignedDuration::from_mins(30));
    assert!(!cal.is_working(sat));
    assert!(cal.is_working(at("2026-11-23T08:00", DENVER)));
    assert!(!cal.is_working(at("2026-11-23T12:30", DENVER)));
}

#[test]
fn daylight_saving_days_count_real_time() {
    let cal = night_shift();
    // 2026-03-08 in Denver: 02:00 does not exist, the 00:00-04:00 window lasts 3 hours.
    let spring = at("2026-03-08T00:00", DENVER);
    assert_eq!(cal.between(spring, at("2026-03-08T12:00", DENVER)), SignedDuration::from_hours(3));
    // 2026-11-01: 01:00-02:00 happens twice, the window lasts 5 hours.
    let autumn = at("2026-11-01T00:00", DENVER);
    assert_eq!(cal.between(autumn, at("2026-11-01T12:00", DENVER)), SignedDuration::from_hours(5));
    assert_eq!(cal.add(autumn, SignedDuration::from_hours(5)), Some(at("2026-11-01T04:00", DENVER)));
}

#[test]
fn office_hours_are_the_same_across_daylight_saving() {
    let cal = city_hours(DENVER);
    // The week of the spring change has five full 8-hour days.
    let from = at("2026-03-06T17:00", DENVER);
    let to = at("2026-03-13T17:00", DENVER);
    assert_eq!(cal.between(from, to), SignedDuration::from_hours(40));
}

#[test]
fn always_open_is_wall_clock() {
    let c = CalendarConfig {
        name: "24x7".into(),
        time_zone: DENVER.into(),
        always_open: true,
        hours: BTreeMap::new(),
        holidays: vec![],
    };
    let cal = BusinessCalendar::new(&c).unwrap();
    let t = at("2026-11-26T23:00", DENVER);
    assert_eq!(cal.add(t, SignedDuration::from_hours(4)), Some(at("2026-11-27T03:00", DENVER)));
}

#[test]
fn bad_calendars_are_refused_with_the_field() {
    let mut c: CalendarConfig = toml::from_str("name = \"x\"\ntime_zone = \"Mars/Olympus\"").unwrap();
    assert!(BusinessCalendar::new(&c).unwrap_err().detail.contains("unknown time zone"));
    c.time_zone = DENVER.into();
    assert!(BusinessCalendar::new(&c).unwrap_err().detail.contains("working hours"));
    c.hours.insert("mon".into(), vec!["17:00-08:00".into()]);
    assert!(BusinessCalendar::new(&c).unwrap_err().detail.contains("ends before"));
    c.hours.insert("mon".into(), vec!["08:00-12:00".into(), "11:00-13:00".into()]);
    assert!(BusinessCalendar::new(&c).unwrap_err().detail.contains("overlap"));
}

#[test]
fn durations_parse_in_business_units() {
    let cal = city_hours(DENVER);
    assert_eq!(parse_business_duration("t", "2d", &cal).unwrap(), SignedDuration::from_hours(16));
    assert_eq!(parse_business_duration("t", "1d 90m", &cal).unwrap(), SignedDuration::from_mins(570));
    assert!(parse_business_duration("t", "soon", &cal).is_err());
    assert!(parse_business_duration("t", "0h", &cal).is_err());
}

fn any_instant() -> impl Strategy<Value = Timestamp> {
    // 2025-2028, covering several daylight-saving changes.
    (1_735_689_600i64..1_830_297_600).prop_map(|s| Timestamp::from_second(s).unwrap())
}

proptest! {
    #[test]
    fn adding_then_measuring_gives_back_the_amount(start in any_instant(), mins in 0i64..20_000, tz in prop::sample::select(vec!["America/Denver", "Europe/London", "Australia/Lord_Howe"])) {
        for cal in [city_hours(tz), night_shift()] {
            let amount = SignedDuration::from_mins(mins);
            let end = cal.add(start, amount).unwrap();
            prop_assert!(end >= start);
            prop_assert_eq!(cal.between(start, end), amount);
        }
    }

    #[test]
    fn business_time_is_additive(a in any_instant(), gap1 in 0i64..2_000_000, gap2 in 0i64..2_000_000) {
        let cal = city_hours(DENVER);
        let b = a.checked_add(SignedDuration::from_secs(gap1)).unwrap();
        let c = b.checked_add(SignedDuration::from_secs(gap2)).unwrap();
        prop_assert_eq!(cal.between(a, b) + cal.between(b, c), cal.between(a, c));
        prop_assert!(cal.between(a, c) <= c.duration_since(a));
    }

    #[test]
    fn a_pause_moves_the_due_time_by_the_paused_business_time(start in any_instant(), target in 60i64..5_000, pause in 0i64..400_000) {
        // What the SLA clock does: remaining time is kept while paused, then added
        // from the resume; the due time moves by exactly the business time paused.
        let cal = city_hours(DENVER);
        let due = cal.add(start, SignedDuration::from_mins(target)).unwrap();
        let paused_at = start;
        let resumed = paused_at.checked_add(SignedDuration::from_secs(pause)).unwrap();
        let remaining = cal.between(paused_at, due);
        let new_due = cal.add(resumed, remaining).unwrap();
        prop_assert_eq!(cal.between(due, new_due), cal.between(paused_at, resumed));
    }
}
