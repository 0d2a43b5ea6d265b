use super::*;
use crate::service::{ServiceType, Visibility};
use proptest::prelude::*;

fn service(code: &str, dept: &str) -> Service {
    Service {
        code: code.into(),
        name: code.into(),
        description: String::new(),
        group: "Streets".into(),
        keywords: vec![],
        service_type: ServiceType::Realtime,
        visibility: Visibility::Public,
        department: dept.into(),
        default_priority: Priority::Normal,
        service_notice: String::new(),
        attributes: vec![],
        assets: None,
        translations: Default::default(),
        open_data: Default::default(),
    }
}

fn org() -> Org {
    Org {
        departments: ["TRIAGE", "PW", "SAN", "WATER"].iter().map(|s| s.to_string()).collect(),
        teams: [("PW-NORTH", "PW"), ("SAN-BULK", "SAN")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        triage_department: "TRIAGE".into(),
    }
}

fn chicago() -> TimeZone {
    TimeZone::get("America/Chicago").unwrap()
}

fn input<'a>(
    s: &'a Service,
    text: &'a str,
    areas: &'a BTreeMap<String, String>,
    answers: &'a Answers,
    at: &str,
) -> RoutingInput<'a> {
    RoutingInput {
        service: s,
        description: text,
        areas,
        channel: Channel::Web,
        answers,
        requested_at: at.parse().unwrap(),
    }
}

const RULES: &str = r#"
[[rule]]
name = "gas is urgent"
when.keywords = ["gas", "downed power line"]
then.priority = "urgent"
then.tags = ["safety"]

[[rule]]
name = "bulk items in ward 3"
when.services = ["BULK"]
when.within = { wards = ["3"] }
then.team = "SAN-BULK"
then.priority = "low"

[[rule]]
name = "after hours water"
when.groups = ["Water"]
when.days = ["sat", "sun"]
when.time = { from = "17:00", to = "07:00" }
then.department = "WATER"
then.priority = "high"
"#;

#[test]
fn rule_file_round_trips_and_routes_with_reasons() {
    let set: RuleSet = toml::from_str(RULES).unwrap();
    let again: RuleSet = toml::from_str(&toml::to_string(&set).unwrap()).unwrap();
    assert_eq!(set, again);
    let engine = RoutingEngine::new(&set, org(), chicago()).unwrap();

    let bulk = service("BULK", "SAN");
    let areas: BTreeMap<String, String> = [("wards".to_string(), "3".to_string())].into();
    let none = Answers::new();
    let d = engine.route(&input(&bulk, "Old sofa. I smell GAS!", &areas, &none, "2026-03-03T15:00:00Z"));
    assert_eq!(d.assignment.department, "SAN");
    assert_eq!(d.assignment.team.as_deref(), Some("SAN-BULK"));
    assert_eq!(d.assignment.priority, Priority::Urgent, "the highest priority of matching rules wins");
    assert_eq!(d.assignment.tags, vec!["safety"]);
    assert_eq!(d.trace.owner_from, "rule 'bulk items in ward 3'");
    assert_eq!(d.trace.priority_from, "rule 'gas is urgent'");
    assert_eq!(d.trace.matched[0].why, vec!["description mentions 'gas'"]);
    assert_eq!(d.trace.matched[1].why, vec!["service is BULK", "location is in wards 3"]);

    let d = engine.route(&input(&bulk, "gasoline smell", &BTreeMap::new(), &none, "2026-03-03T15:00:00Z"));
    assert_eq!(d.assignment.department, "SAN");
    assert_eq!(d.trace.owner_from, "service default");
    assert_eq!(d.assignment.priority, Priority::Normal);
}

#[test]
fn after_hours_windows_use_local_time_and_wrap_midnight() {
    let set: RuleSet = toml::from_str(RULES).unwrap();
    let engine = RoutingEngine::new(&set, org(), chicago()).unwrap();
    let mut main_break = service("MAIN", "PW");
    main_break.group = "Water".into();
    let (a, n) = (BTreeMap::new(), Answers::new());
    // Saturday 2026-03-07 18:30 in Chicago (CST, UTC-6) is 00:30Z Sunday.
    let d = engine.route(&input(&main_break, "", &a, &n, "2026-03-08T00:30:00Z"));
    assert_eq!(d.assignment.department, "WATER");
    assert!(d.trace.matched[0].why.iter().any(|w| w == "filed Sat 18:30 local time"), "{:?}", d.trace);
    // Sunday 06:59 local (CDT after the spring change, UTC-5) still matches; 07:00 does not.
    assert_eq!(engine.route(&input(&main_break, "", &a, &n, "2026-03-08T11:59:00Z")).assignment.department, "WATER");
    assert_eq!(engine.route(&input(&main_break, "", &a, &n, "2026-03-08T12:00:00Z")).assignment.department, "PW");
    // Friday evening is not the weekend.
    assert_eq!(engine.route(&input(&main_break, "", &a, &n, "2026-03-07T00:30:00Z")).assignment.department, "PW");
}

#[test]
fn unknown_service_department_falls_back_to_triage() {
    let engine = RoutingEngine::new(&RuleSet::default(), org(), chicago()).unwrap();
    let s = service("ODD", "NOPE");
    let (a, n) = (BTreeMap::new(), Answers::new());
    let d = engine.route(&input(&s, "", &a, &n, "2026-03-03T15:00:00Z"));
    assert_eq!(d.assignment.department, "TRIAGE");
    assert_eq!(d.trace.owner_from, "triage fallback");
}

#[test]
fn attribute_conditions() {
    let set: RuleSet = toml::from_str(
        "[[rule]]\nname = \"hazard\"\nwhen.attributes = { HAZARD = [\"yes\"] }\nthen.priority = \"high\"\n",
    )
    .unwrap();
    let engine = RoutingEngine::new(&set, org(), chicago()).unwrap();
    let s = service("POTHOLE", "PW");
    let a = BTreeMap::new();
    let yes: Answers = [("HAZARD".to_string(), vec!["yes".to_string()])].into();
    let no: Answers = [("HAZARD".to_string(), vec!["no".to_string()])].into();
    assert_eq!(engine.route(&input(&s, "", &a, &yes, "2026-03-03T15:00:00Z")).assignment.priority, Priority::High);
    assert_eq!(engine.route(&input(&s, "", &a, &no, "2026-03-03T15:00:00Z")).assignment.priority, Priority::Normal);
}

#[test]
fn bad_rule_sets_are_refused_with_the_rule_named() {
    let bad = |text: &str| RoutingEngine::new(&toml::from_str::<RuleSet>(text).unwrap(), org(), chicago()).unwrap_err();
    assert!(bad("[[rule]]\nname = \"x\"\nthen.department = \"NOPE\"\n").detail.contains("unknown department"));
    assert!(
        bad("[[rule]]\nname = \"x\"\nthen.team = \"PW-NORTH\"\nthen.department = \"SAN\"\n")
            .detail
            .contains("belongs to PW")
    );
    assert!(
        bad("[[rule]]\nname = \"x\"\nwhen.time = { from = \"25:00\", to = \"07:00\" }\nthen.priority = \"high\"\n")
            .field
            .contains("'x'")
    );
    assert!(bad("[[rule]]\nname = \"x\"\nthen.tags = []\n").detail.contains("does nothing"));
    assert!(
        bad("[[rule]]\nname = \"x\"\nthen.priority = \"low\"\n[[rule]]\nname = \"x\"\nthen.priority = \"low\"\n")
            .detail
            .contains("two rules")
    );
    assert!(
        toml::from_str::<RuleSet>("[[rule]]\nname = \"x\"\nwhen.colour = [\"red\"]\nthen.priority = \"low\"\n")
            .is_err()
    );
}

// ---- precedence properties -------------------------------------------------------

const SERVICES: [&str; 3] = ["A", "B", "C"];
const WORDS: [&str; 3] = ["gas", "flood", "tree"];
const DEPTS: [&str; 3] = ["PW", "SAN", "WATER"];

fn arb_rule(i: usize) -> impl Strategy<Value = Rule> {
    (
        prop::sample::subsequence(SERVICES.to_vec(), 0..=2),
        prop::sample::subsequence(WORDS.to_vec(), 0..=2),
        prop::option::of(prop::sample::select(DEPTS.to_vec())),
        prop::option::of(prop::sample::select(Priority::ALL.to_vec())),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(move |(services, keywords, dept, priority, stop, tag)| {
            let priority = if dept.is_none() { Some(priority.unwrap_or(Priority::Low)) } else { priority };
            Rule {
                name: format!("r{i}"),
                when: Conditions {
                    services: services.iter().map(|s| s.to_string()).collect(),
                    keywords: keywords.iter().map(|s| s.to_string()).collect(),
                    ..Conditions::default()
                },
                then: Actions {
                    department: dept.map(str::to_owned),
                    priority,
                    tags: vec![format!("t{}", tag % 4)],
                    ..Actions::default()
                },
                stop: stop && tag % 3 == 0,
            }
        })
}

fn arb_rules() -> impl Strategy<Value = Vec<Rule>> {
    (0usize..12).prop_flat_map(|n| (0..n).map(arb_rule).collect::<Vec<_>>())
}

/// The reference reading of a rule, written independently of the engine.
fn reference_matches(r: &Rule, svc: &str, text: &str) -> bool {
    let lower = text.to_lowercase();
    let ws: Vec<&str> = lower.split(' ').collect();
    (r.when.services.is_empty() || r.when.services.iter().any(|s| s == svc))
        && (r.when.keywords.is_empty() || r.when.keywords.iter().any(|k| ws.contains(&k.as_str())))
}

proptest! {
    #[test]
    fn first_owner_highest_priority_and_stop(rules in arb_rules(), svc in prop::sample::select(SERVICES.to_vec()),
                                             text_words in prop::sample::subsequence(WORDS.to_vec(), 0..=3)) {
        let text = text_words.join(" ").to_uppercase();
        let set = RuleSet { rules: rules.clone() };
        let engine = RoutingEngine::new(&set, org(), chicago()).unwrap();
        let s = service(svc, "PW");
        let (a, n) = (BTreeMap::new(), Answers::new());
        let d = engine.route(&input(&s, &text, &a, &n, "2026-03-03T15:00:00Z"));

        // Rules that take effect: matching ones, up to and including the first stop.
        let mut effective = Vec::new();
        for r in &rules {
            if reference_matches(r, svc, &text) {
                effective.push(r);
                if r.stop { break; }
            }
        }
        let expected_owner = effective.iter().find_map(|r| r.then.department.clone()).unwrap_or_else(|| "PW".into());
        prop_assert_eq!(&d.assignment.department, &expected_owner);
        let expected_priority = effective.iter().filter_map(|r| r.then.priority).max().map_or(Priority::Normal, |p| p.max(Priority::Normal));
        prop_assert_eq!(d.assignment.priority, expected_priority);
        prop_assert_eq!(d.trace.matched.len(), effective.len());
        for r in &effective {
            for t in &r.then.tags { prop_assert!(d.assignment.tags.contains(t)); }
        }

        // Appending rules after a stop rule that matched never changes the decision.
        if effective.last().is_some_and(|r| r.stop) {
            let mut more = rules.clone();
            more.push(Rule { name: "late".into(), when: Conditions::default(),
                then: Actions { department: Some("WATER".into()), priority: Some(Priority::Urgent), ..Actions::default() }, stop: false });
            let e2 = RoutingEngine::new(&RuleSet { rules: more }, org(), chicago()).unwrap();
            prop_assert_eq!(e2.route(&input(&s, &text, &a, &n, "2026-03-03T15:00:00Z")).assignment, d.assignment.clone());
        }
        // Every request has an owner that exists.
        prop_assert!(org().departments.contains(&d.assignment.department));
    }
}

#[test]
fn a_layer_that_drops_a_feature_a_rule_names_is_refused() {
    let rules: RuleSet =
        toml::from_str("[[rule]]\nname = \"ward 3 bulk\"\nwhen.within.ward = [\"3\"]\nthen.department = \"SAN\"\n")
            .unwrap();
    assert!(rules.check_layer("ward", ["1", "2", "3"]).is_ok());
    assert!(rules.check_layer("zip", ["60601"]).is_ok(), "other layers are not concerned");
    let e = rules.check_layer("ward", ["1", "2"]).unwrap_err();
    assert_eq!(e.field, "ward");
    assert!(e.detail.contains("rule 'ward 3 bulk' names ward 3"), "{e}");
}
