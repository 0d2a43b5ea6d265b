//! Importing a city's history (docs/OPEN_DATA.md): rows of our own bulk export or of
//! the NYC, Chicago and San Francisco 311 layouts, read into requests as their source
//! recorded them. What cannot be read with certainty is rejected with a reason, never
//! guessed: a type the mapping does not name, a row outside the city, an address the
//! city's address points do not have, a date that cannot be read.

use std::collections::{BTreeMap, HashSet};

use civic311_domain::geo::Point;
use civic311_domain::request::{Channel, Description, Location, NewRequest, RequestId, Status};
use civic311_domain::routing::RoutingInput;
use civic311_domain::workflow;
use civic311_store::{Imported, Intake};
use jiff::Timestamp;
use jiff::civil::DateTime;
use serde::Deserialize;

use crate::city::CityModel;

/// A file's column layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Our own export (`/open-data/requests.csv`): numbers are kept.
    Open311Bulk,
    /// NYC's "311 Service Requests from 2010 to Present".
    Nyc,
    /// Chicago's "311 Service Requests".
    Chicago,
    /// San Francisco's "311 Cases".
    Sf,
}

impl Layout {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open311-bulk" => Some(Layout::Open311Bulk),
            "nyc" => Some(Layout::Nyc),
            "chicago" => Some(Layout::Chicago),
            "sf" => Some(Layout::Sf),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Layout::Open311Bulk => "open311-bulk",
            Layout::Nyc => "nyc",
            Layout::Chicago => "chicago",
            Layout::Sf => "sf",
        }
    }

    /// The columns of each field, by the names the layout's header gives them:
    /// id, created, updated, closed, due, status, status notes, type, subtype, agency,
    /// description, address, lat, long, channel, parent, duplicate flag.
    fn columns(self) -> [Option<&'static str>; 17] {
        match self {
            Layout::Open311Bulk => [
                Some("service_request_id"),
                Some("requested_datetime"),
                Some("updated_datetime"),
                Some("closed_date"),
                Some("expected_datetime"),
                Some("status_description"),
                Some("status_notes"),
                Some("service_code"),
                None,
                Some("agency_responsible"),
                Some("description"),
                Some("address"),
                Some("lat"),
                Some("long"),
                Some("channel"),
                Some("duplicate_of"),
                None,
            ],
            Layout::Nyc => [
                Some("Unique Key"),
                Some("Created Date"),
                Some("Resolution Action Updated Date"),
                Some("Closed Date"),
                Some("Due Date"),
                Some("Status"),
                Some("Resolution Description"),
                Some("Complaint Type"),
                Some("Descriptor"),
                Some("Agency"),
                None,
                Some("Incident Address"),
                Some("Latitude"),
                Some("Longitude"),
                Some("Open Data Channel Type"),
                None,
                None,
            ],
            Layout::Chicago => [
                Some("SR_NUMBER"),
                Some("CREATED_DATE"),
                Some("LAST_MODIFIED_DATE"),
                Some("CLOSED_DATE"),
                None,
                Some("STATUS"),
                None,
                Some("SR_TYPE"),
                None,
                Some("OWNER_DEPARTMENT"),
                None,
                Some("STREET_ADDRESS"),
                Some("LATITUDE"),
                Some("LONGITUDE"),
                Some("ORIGIN"),
                Some("PARENT_SR_NUMBER"),
                Some("DUPLICATE"),
            ],
            Layout::Sf => [
                Some("CaseID"),
                Some("Opened"),
                Some("Updated"),
                Some("Closed"),
                None,
                Some("Status"),
                Some("Status Notes"),
                Some("Category"),
                Some("Request Type"),
                Some("Responsible Agency"),
                Some("Request Details"),
                Some("Address"),
                Some("Latitude"),
                Some("Longitude"),
                Some("Source"),
                None,
                None,
            ],
        }
    }

    /// Their statuses, as ours, unless the mapping file says otherwise.
    fn status(self, s: &str) -> Option<Status> {
        let s = s.trim();
        match self {
            Layout::Open311Bulk => Status::parse(s),
            _ => match s.to_ascii_lowercase().as_str() {
                "closed" | "completed" | "canceled" | "cancelled" => Some(Status::Closed),
                "open" | "assigned" | "unspecified" | "email sent" => Some(Status::Open),
                "in progress" | "started" => Some(Status::InProgress),
                "pending" => Some(Status::OnHold),
                "duplicate" => Some(Status::Duplicate),
                _ => None,
            },
        }
    }

    /// Their channel, as ours; `phone` when the source does not say.
    fn channel(self, s: &str) -> Channel {
        let s = s.trim().to_ascii_lowercase();
        if let Some(c) = Channel::parse(&s) {
            return c;
        }
        match s.as_str() {
            "online" | "internet" | "web" | "website" => Channel::Web,
            "mobile" | "mobile app" | "mobile device" | "iphone" | "android" | "twitter" => Channel::Mobile,
            "e-mail" | "email" => Channel::Email,
            "text" | "text message" | "sms" => Channel::Sms,
            "walk in" | "walk-in" => Channel::WalkIn,
            "integrated agency" | "city worker app" | "internal" | "spot checker" => Channel::Internal,
            _ => Channel::Phone,
        }
    }

    /// A time as the layout writes it: ISO 8601 with an offset (ours), else
    /// `MM/DD/YYYY hh:mm:ss AM` or `YYYY-MM-DDThh:mm:ss` in the city's time zone.
    fn time(self, s: &str, city: &CityModel) -> Option<Timestamp> {
        let s = s.trim();
        if let Ok(t) = s.parse::<Timestamp>() {
            return Some(t);
        }
        let local = DateTime::strptime("%m/%d/%Y %I:%M:%S %p", s)
            .or_else(|_| DateTime::strptime("%m/%d/%Y %H:%M:%S", s))
            .or_else(|_| DateTime::strptime("%m/%d/%Y %H:%M", s))
            .or_else(|_| s.parse::<DateTime>())
            .ok()?;
        local.to_zoned(city.tz.clone()).ok().map(|z| z.timestamp())
    }
}

/// NYC's 41 columns, in their order (the header of "311 Service Requests from 2010 to
/// Present"); the importer reads the ones [`Layout::Nyc`] names.
pub const NYC_COLUMNS: [&str; 41] = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Agency",
    "Agency Name",
    "Complaint Type",
    "Descriptor",
    "Location Type",
    "Incident Zip",
    "Incident Address",
    "Street Name",
    "Cross Street 1",
    "Cross Street 2",
    "Intersection Street 1",
    "Intersection Street 2",
    "Address Type",
    "City",
    "Landmark",
    "Facility Type",
    "Status",
    "Due Date",
    "Resolution Description",
    "Resolution Action Updated Date",
    "Community Board",
    "BBL",
    "Borough",
    "X Coordinate (State Plane)",
    "Y Coordinate (State Plane)",
    "Open Data Channel Type",
    "Park Facility Name",
    "Park Borough",
    "Vehicle Type",
    "Taxi Company Borough",
    "Taxi Pick Up Location",
    "Bridge Highway Name",
    "Bridge Highway Direction",
    "Road Ramp",
    "Bridge Highway Segment",
    "Latitude",
    "Longitude",
    "Location",
];

/// Their types, agencies and statuses as the city's services, departments and statuses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Their type (`Noise - Residential`), or type and subtype joined by `|`
    /// (`Noise - Residential|Loud Music/Party`, tried first), → a service code.
    #[serde(default)]
    pub services: BTreeMap<String, String>,
    /// Their agency → a department code; without one, the city's routing decides.
    #[serde(default)]
    pub departments: BTreeMap<String, String>,
    /// Their status → ours (`closed`, `in_progress`…), before the layout's defaults.
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
}

impl Mapping {
    /// Checks that every service, department and status it names exists.
    pub fn check(&self, city: &CityModel) -> Result<(), String> {
        for (theirs, code) in &self.services {
            if city.service(code).is_none() {
                return Err(format!("services: \"{theirs}\" maps to {code}, which the city does not have"));
            }
        }
        for (theirs, code) in &self.departments {
            if !city.departments.iter().any(|d| &d.code == code) {
                return Err(format!("departments: \"{theirs}\" maps to {code}, which the city does not have"));
            }
        }
        for (theirs, status) in &self.statuses {
            if Status::parse(status).is_none() {
                return Err(format!("statuses: \"{theirs}\" maps to {status}, which is not a status"));
            }
        }
        Ok(())
    }
}

/// Why a row was not imported: one of a few fixed reasons, counted by a dry run.
pub type Reason = String;

/// Reads rows of one layout into intakes.
pub struct Reader<'a> {
    city: &'a CityModel,
    layout: Layout,
    mapping: &'a Mapping,
    /// Where each field's column is in the file (see [`Layout::columns`]).
    at: [Option<usize>; 17],
    /// Where each boundary layer's column is (our own export carries them).
    layers: Vec<(String, usize)>,
    now: Timestamp,
}

const ID: usize = 0;
const CREATED: usize = 1;
const UPDATED: usize = 2;
const CLOSED: usize = 3;
const DUE: usize = 4;
const STATUS: usize = 5;
const NOTES: usize = 6;
const TYPE: usize = 7;
const SUBTYPE: usize = 8;
const AGENCY: usize = 9;
const DESCRIPTION: usize = 10;
const ADDRESS: usize = 11;
const LAT: usize = 12;
const LONG: usize = 13;
const CHANNEL: usize = 14;
const PARENT: usize = 15;
const DUPLICATE: usize = 16;

impl<'a> Reader<'a> {
    /// A reader for a file whose header is `header`; refused when a column the layout
    /// needs (id, created, status, type) is missing.
    pub fn new(
        city: &'a CityModel,
        layout: Layout,
        mapping: &'a Mapping,
        header: &[&str],
        now: Timestamp,
    ) -> Result<Self, String> {
        let find = |name: &str| header.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == name);
        let names = layout.columns();
        let mut at = [None; 17];
        for (i, name) in names.iter().enumerate() {
            at[i] = name.and_then(find);
        }
        for needed in [ID, CREATED, STATUS, TYPE] {
            if at[needed].is_none() {
                let name = names[needed].unwrap_or_default();
                return Err(format!("the file has no {name} column: is it in the {} layout?", layout.name()));
            }
        }
        let layers = if layout == Layout::Open311Bulk {
            city.boundaries.layers().iter().filter_map(|l| Some((l.clone(), find(l)?))).collect()
        } else {
            Vec::new()
        };
        Ok(Self { city, layout, mapping, at, layers, now })
    }

    /// The source id of a row (`nyc:58813212`), or `None` when it has none.
    pub fn source(&self, row: &[&str]) -> Option<String> {
        let id = self.field(row, ID)?;
        Some(format!("{}:{id}", self.layout.name()))
    }

    fn field<'r>(&self, row: &[&'r str], i: usize) -> Option<&'r str> {
        self.at[i].and_then(|c| row.get(c)).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn time(&self, row: &[&str], i: usize, name: &str) -> Result<Option<Timestamp>, Reason> {
        match self.field(row, i) {
            None => Ok(None),
            Some(v) => self.layout.time(v, self.city).map(Some).ok_or_else(|| format!("unreadable {name} date")),
        }
    }

    /// The request a row describes, or why it cannot be imported.
    pub fn read(&self, row: &[&str]) -> Result<Intake, Reason> {
        let source = self.source(row).ok_or("no id")?;
        let requested_at = self.time(row, CREATED, "created")?.ok_or("no created date")?;
        let closed_at = self.time(row, CLOSED, "closed")?;
        let updated_at = self.time(row, UPDATED, "updated")?;
        let expected_at = self.time(row, DUE, "due")?;
        if closed_at.is_some_and(|c| c < requested_at) {
            return Err("closed before it was created".into());
        }
        let their_status = self.field(row, STATUS).unwrap_or_default();
        let status = match self.mapping.statuses.get(their_status) {
            Some(ours) => Status::parse(ours),
            None => self.layout.status(their_status),
        }
        .ok_or_else(|| format!("unknown status \"{their_status}\""))?;
        let closed_at = match (status.is_closed(), closed_at) {
            (true, None) => Some(updated_at.ok_or("closed without a closed date")?),
            (true, Some(c)) => Some(c),
            (false, _) => None,
        };
        let service = self.service(row)?;
        let point = self.point(row)?;
        let text = self.field(row, ADDRESS).map(str::to_owned);
        let (point, address) = match (point, text) {
            (Some(p), address) => (p, address),
            (None, Some(address)) => match self.city.addresses.locate(&address) {
                Some(found) => (found.point, Some(address)),
                None => return Err("an address the city's address points do not have".into()),
            },
            (None, None) => return Err("no location".into()),
        };
        let mut areas: BTreeMap<String, String> = self
            .layers
            .iter()
            .filter_map(|(layer, col)| Some((layer.clone(), row.get(*col)?.trim().to_owned())))
            .filter(|(_, f)| !f.is_empty())
            .collect();
        if areas.is_empty() {
            areas = self.city.boundaries.locate(&point);
        }
        let outline = &self.city.settings.boundary_layer;
        if self.city.boundaries.layers().contains(outline) && !areas.contains_key(outline) {
            return Err("outside the city".into());
        }
        let text = match self.layout {
            // NYC and Chicago publish no resident's words: the subtype says what it was.
            Layout::Nyc | Layout::Chicago => self.field(row, SUBTYPE).or_else(|| self.field(row, DESCRIPTION)),
            _ => self.field(row, DESCRIPTION),
        };
        let description =
            Description::parse(text.unwrap_or_default()).map_err(|e| format!("description {}", e.detail))?;
        let channel = self.field(row, CHANNEL).map_or(Channel::Phone, |c| self.layout.channel(c));
        let request = NewRequest {
            service_code: service.code.clone(),
            description,
            location: Location { point: Some(point), address, address_id: None, zipcode: None },
            answers: Default::default(),
            channel,
            contact: Default::default(),
            media_url: None,
            media: Vec::new(),
            areas,
            requested_at,
        };
        let mut decision = self.city.routing.route(&RoutingInput {
            service,
            description: request.description.as_str(),
            areas: &request.areas,
            channel,
            answers: &request.answers,
            requested_at,
        });
        if let Some(dept) = self.department(row) {
            decision.assignment.department = dept;
            decision.assignment.team = None;
        }
        let model = &self.city.workflow;
        let mut wf = workflow::start(
            model,
            &service.code,
            &decision.assignment.department,
            decision.assignment.priority,
            requested_at,
        );
        if status == Status::Duplicate {
            wf.merged_into = self.parent(row);
        }
        // A paused clock has no due time; our own export says when there is none.
        let paused = matches!(status, Status::OnHold | Status::WaitingOnResident);
        let expected_at = match self.layout {
            Layout::Open311Bulk => expected_at,
            _ if paused => None,
            _ => expected_at.or_else(|| wf.sla.as_ref().map(|c| c.resolution_due)),
        };
        let mut intake = Intake {
            request,
            decision,
            token: crate::tokens::new_request_token(),
            closed: None,
            workflow: wf,
            messages: Vec::new(),
            timers: Vec::new(),
            logged_by: None,
            history: Vec::new(),
            imported: Some(Imported {
                seq: self.kept_number(row),
                source,
                status,
                status_notes: self.field(row, NOTES).map(str::to_owned),
                updated_at: updated_at.or(closed_at).unwrap_or(requested_at).max(requested_at),
                closed_at,
                expected_at,
            }),
        };
        if !status.is_closed() && !paused {
            // Open work keeps its SLA clock; what fell due before the import is not
            // escalated now (nobody is told about the past).
            let now = self.now;
            intake.timers =
                workflow::timers(model, &intake.provisional()).into_iter().filter(|t| t.due > now).collect();
        }
        Ok(intake)
    }

    fn service(&self, row: &[&str]) -> Result<&'a civic311_domain::service::Service, Reason> {
        let kind = self.field(row, TYPE).unwrap_or_default();
        let code = match self.field(row, SUBTYPE) {
            Some(sub) => self.mapping.services.get(&format!("{kind}|{sub}")),
            None => None,
        }
        .or_else(|| self.mapping.services.get(kind))
        .map(String::as_str);
        let code = match (code, self.layout) {
            (Some(c), _) => c,
            (None, Layout::Open311Bulk) => kind,
            (None, _) => return Err(format!("unknown type \"{kind}\" (not in the mapping)")),
        };
        self.city.service(code).ok_or_else(|| format!("unknown type \"{kind}\" (not in the mapping)"))
    }

    fn point(&self, row: &[&str]) -> Result<Option<Point>, Reason> {
        match (self.field(row, LAT), self.field(row, LONG)) {
            (Some(lat), Some(lon)) => {
                let (lat, lon) =
                    lat.parse::<f64>().ok().zip(lon.parse::<f64>().ok()).ok_or("unreadable coordinates")?;
                Point::new(lat, lon).map(Some).map_err(|_| "unreadable coordinates".into())
            }
            _ => Ok(None),
        }
    }

    fn department(&self, row: &[&str]) -> Option<String> {
        let agency = self.field(row, AGENCY)?;
        if let Some(code) = self.mapping.departments.get(agency) {
            return Some(code.clone());
        }
        // Our own export names the department.
        let depts = &self.city.departments;
        depts.iter().find(|d| d.name == agency || d.code == agency).map(|d| d.code.clone())
    }

    /// The request a duplicate was merged into: our number, or (other layouts) the
    /// number a request imported from its parent's row was given — looked up later.
    fn parent(&self, row: &[&str]) -> Option<String> {
        let parent = self.field(row, PARENT)?;
        match self.layout {
            Layout::Open311Bulk => Some(parent.to_owned()),
            _ => None,
        }
    }

    /// For a layout whose file links a duplicate to its parent by the parent's own id
    /// (Chicago: `DUPLICATE` true and `PARENT_SR_NUMBER`), the parent's source id: the
    /// row is merged into the request imported from it ([`merge_into`]) when there is
    /// one, and keeps its own status when there is not.
    pub fn duplicate_of(&self, row: &[&str]) -> Option<String> {
        if self.layout != Layout::Chicago {
            return None;
        }
        let flag = self.field(row, DUPLICATE)?;
        if !matches!(flag.to_ascii_lowercase().as_str(), "true" | "t" | "y" | "yes" | "1") {
            return None;
        }
        let parent = self.field(row, PARENT)?;
        Some(format!("{}:{parent}", self.layout.name()))
    }

    fn kept_number(&self, row: &[&str]) -> Option<i64> {
        if self.layout != Layout::Open311Bulk {
            return None;
        }
        RequestId::parse(self.field(row, ID)?).map(|(_, seq)| seq)
    }
}

/// Makes an imported request a duplicate merged into `parent` (its parent's row,
/// imported before it): closed as a duplicate when it was closed (else when it last
/// changed), with no SLA clock left to run.
pub fn merge_into(intake: &mut Intake, parent: RequestId) {
    intake.workflow.merged_into = Some(parent.to_string());
    intake.timers.clear();
    if let Some(m) = intake.imported.as_mut() {
        m.status = Status::Duplicate;
        m.closed_at = Some(m.closed_at.unwrap_or(m.updated_at));
        m.expected_at = None;
    }
}

/// What an import did, or (a dry run) would do: counts per outcome and per reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub imported: u64,
    pub already: u64,
    pub rejected: BTreeMap<Reason, u64>,
    /// Of those imported, duplicates merged into the request imported from their
    /// parent's row, and duplicates whose parent was not imported (kept as they were).
    pub merged: u64,
    pub unlinked: u64,
}

impl Outcomes {
    pub fn rows(&self) -> u64 {
        self.imported + self.already + self.rejected.values().sum::<u64>()
    }

    pub fn reject(&mut self, why: Reason) {
        *self.rejected.entry(why).or_default() += 1;
    }
}

/// Ids seen so far in a file: a second row with the same id is rejected.
#[derive(Default)]
pub struct Seen(HashSet<String>);

impl Seen {
    /// True the first time `source` is seen.
    pub fn first(&mut self, source: &str) -> bool {
        self.0.insert(source.to_owned())
    }
}
