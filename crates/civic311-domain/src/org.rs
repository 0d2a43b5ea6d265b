//! The city's organisation: departments, their teams and staff.

use serde::{Deserialize, Serialize};

/// A department that owns requests (Public Works, Sanitation, 311 Triage…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name: String,
    /// Shared mailbox for the department, used by notifications.
    #[serde(default)]
    pub email: String,
    /// The team whose queue receives requests transferred in without a team; its
    /// supervisor is told of each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake_team: Option<String>,
}

/// A team inside a department; requests are owned by a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub code: String,
    pub department: String,
    pub name: String,
}

/// What a staff member may do; scoping by department is applied on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Intake,
    Staff,
    Field,
    Supervisor,
    Admin,
    Analyst,
}

impl Role {
    /// True for the roles that log phone and walk-in requests and add a caller as a
    /// follower: everyone but analysts, who only read.
    pub fn logs_requests(self) -> bool {
        !matches!(self, Role::Analyst)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Staff => "staff",
            Role::Field => "field",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
        }
    }
}

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub department: String,
    #[serde(default)]
    pub team: Option<String>,
    pub role: Role,
    /// Departments beyond their own whose requests they may act on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_departments: Vec<String>,
    /// False once the person has left: their tokens stop working, no work is assigned
    /// to them and no escalation is sent to them. Kept so history still names them.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl StaffUser {
    /// True when the user may act on requests owned by `department`.
    pub fn covers(&self, department: &str) -> bool {
        self.role == Role::Admin
            || self.department == department
            || self.also_departments.iter().any(|d| d == department)
    }
}
