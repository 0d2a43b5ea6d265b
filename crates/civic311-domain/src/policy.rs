//! Who may do what: the role policy for staff actions and for reading who was sent
//! what. Every surface (staff API, staff pages, the CLI) asks here.

use crate::org::{Role, StaffUser};
use crate::request::ServiceRequest;
use crate::workflow::{Action, RoleSettings};

/// True for the roles that may read the outbox (who was sent what) and the delivery log.
pub fn reads_outbox(user: &StaffUser) -> bool {
    matches!(user.role, Role::Admin | Role::Supervisor)
}

/// The departments whose requests the user may report on: `None` for every department
/// (analysts and administrators), their own for supervisors; refused, with the reason,
/// for everyone else. The reporting API and the dashboards both ask here.
pub fn report_scope(user: &StaffUser) -> Result<Option<Vec<String>>, String> {
    match user.role {
        Role::Analyst | Role::Admin => Ok(None),
        Role::Supervisor => {
            Ok(Some(std::iter::once(user.department.clone()).chain(user.also_departments.iter().cloned()).collect()))
        }
        _ => Err(format!(
            "reports are for analysts, supervisors and administrators; {} is {}",
            user.username,
            user.role.as_str()
        )),
    }
}

/// Refuses a report filtered by a department outside `scope` (see [`report_scope`]).
pub fn report_departments_allowed<'a>(
    user: &StaffUser,
    scope: &Option<Vec<String>>,
    asked: impl IntoIterator<Item = &'a String>,
) -> Result<(), String> {
    let Some(mine) = scope else { return Ok(()) };
    match asked.into_iter().find(|d| !mine.contains(d)) {
        Some(other) => Err(format!("{} supervises {}, not {other}", user.username, mine.join(", "))),
        None => Ok(()),
    }
}

/// A transfer by a role the city lets transfer (see [`RoleSettings::may_transfer`]).
fn transfers(user: &StaffUser, action: &Action, roles: &RoleSettings) -> bool {
    matches!(action, Action::Transfer { .. }) && roles.may_transfer.contains(&user.role)
}

/// "Assign to me": the request given to the user (and their own team), no one else.
fn takes_for_self(user: &StaffUser, action: &Action) -> bool {
    match action {
        Action::Assign { team, assignee } => {
            assignee.as_deref() == Some(user.username.as_str()) && (team.is_none() || *team == user.team)
        }
        _ => false,
    }
}

/// Refuses, with the reason, an action the user's role or department does not allow;
/// `roles` is what the city lets roles do beyond their defaults.
pub fn may_act(user: &StaffUser, req: &ServiceRequest, action: &Action, roles: &RoleSettings) -> Result<(), String> {
    let name = action.name();
    let allowed_by_role = match user.role {
        Role::Admin | Role::Supervisor | Role::Staff => !matches!(action, Action::Rate { .. }),
        Role::Field => {
            matches!(
                action,
                Action::Start { .. }
                    | Action::Hold { .. }
                    | Action::Resume { .. }
                    | Action::Note { .. }
                    | Action::AttachPhotos { .. }
                    | Action::Resolve { .. }
                    // A crew on site sees that two reports are one problem.
                    | Action::Merge { .. }
            ) || takes_for_self(user, action)
                || transfers(user, action, roles)
        }
        Role::Intake => {
            matches!(action, Action::Note { .. } | Action::AttachPhotos { .. }) || transfers(user, action, roles)
        }
        Role::Analyst => false,
    };
    if !allowed_by_role {
        return Err(format!("the {} role may not {name}", user.role.as_str()));
    }
    // Intake staff add notes and photos to any request (a caller's follow-up); everyone else acts
    // within their departments.
    if user.role != Role::Intake && !user.covers(&req.assignment.department) {
        return Err(format!(
            "{} is owned by {}; {} acts on {} requests",
            req.id, req.assignment.department, user.username, user.department
        ));
    }
    Ok(())
}
