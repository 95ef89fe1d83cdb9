//! Simulates one board: its sprints, the issues planned, added, removed and carried over, and each
//! issue's workflow (reviews, blocked spells, rework, reopens), estimates, flags and comments.
//! Everything after `end` is cut: the data looks like an export taken at `end`.

use crate::model::*;
use crate::words;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub const HOUR: i64 = 3600;
pub const DAY: i64 = 24 * HOUR;
pub const SPRINT_LEN: i64 = 14 * DAY;

/// Next id of each table (shared by all boards so ids are unique).
#[derive(Debug, Clone)]
pub struct Ids {
    pub issue: i64,
    pub transition: i64,
    pub change: i64,
    pub comment: i64,
    pub sprint: i64,
    pub membership: i64,
    pub external_sprint: i64,
}

impl Ids {
    pub fn starting_after(offset: i64) -> Self {
        let n = offset + 1;
        Ids { issue: n, transition: n, change: n, comment: n, sprint: n, membership: n, external_sprint: 1000 + n }
    }
}

fn take(counter: &mut i64) -> i64 {
    let v = *counter;
    *counter += 1;
    v
}

pub struct BoardPlan {
    pub tenant: String,
    pub project: String,
    pub board: String,
    pub sprints: usize,
    pub issues_per_sprint: f64,
}

struct IssueSim {
    row: Issue,
    /// Workflow after creation: (to_status, at), in time order.
    timeline: Vec<(&'static str, i64)>,
    changes: Vec<(&'static str, Option<String>, Option<String>, i64)>,
    points_now: Option<u32>,
}

impl IssueSim {
    fn status_at(&self, t: i64) -> &'static str {
        self.timeline.iter().take_while(|(_, at)| *at <= t).last().map(|(s, _)| *s).unwrap_or("To Do")
    }
    fn started(&self) -> bool {
        !self.timeline.is_empty()
    }
}

struct Member {
    issue: usize,
    added_at: i64,
    removed_at: Option<i64>,
}

pub struct Board<'a, S: Sink> {
    rng: ChaCha8Rng,
    ids: &'a mut Ids,
    sink: &'a mut S,
    end: i64,
    plan: &'a BoardPlan,
    team: Vec<&'static str>,
    has_qa: bool,
    epics: Vec<String>,
    issues: Vec<IssueSim>,
    next_key: u32,
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Picks from (value, weight) pairs.
fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total);
    for (v, w) in items {
        if r < *w {
            return *v;
        }
        r -= w;
    }
    items[items.len() - 1].0
}

fn secs(rng: &mut ChaCha8Rng, lo_days: f64, hi_days: f64) -> i64 {
    (rng.random_range(lo_days..hi_days) * DAY as f64) as i64
}

impl<'a, S: Sink> Board<'a, S> {
    pub fn new(rng: ChaCha8Rng, ids: &'a mut Ids, sink: &'a mut S, end: i64, plan: &'a BoardPlan) -> Self {
        let mut b =
            Board { rng, ids, sink, end, plan, team: Vec::new(), has_qa: false, epics: Vec::new(), issues: Vec::new(), next_key: 1 };
        let size = b.rng.random_range(4..=8);
        let first = b.rng.random_range(0..words::PEOPLE.len());
        b.team = (0..size).map(|i| words::PEOPLE[(first + i * 3) % words::PEOPLE.len()]).collect();
        b.has_qa = b.rng.random_bool(0.3);
        b
    }

    /// Runs the board and emits all its rows. Returns the number of issues it created.
    pub fn run(mut self) -> std::io::Result<usize> {
        let n = self.plan.sprints.max(1);
        let end_day = self.end - self.end.rem_euclid(DAY);
        let active_offset = self.rng.random_range(1..=13) * DAY;
        let first_start = end_day - active_offset - (n as i64 - 1) * SPRINT_LEN + 9 * HOUR;

        for e in 0..self.rng.random_range(3..=5) {
            let created = first_start - 30 * DAY + e * DAY;
            let idx = self.new_issue(created, Some("Epic"));
            self.issues[idx].timeline.push(("In Progress", created + DAY));
            let key = self.issues[idx].row.issue_key.clone();
            self.epics.push(key);
        }

        let mut carry: Vec<usize> = Vec::new();
        let mut removed_last: Vec<usize> = Vec::new();
        let mut prev_complete = first_start - DAY;
        for k in 0..=n {
            let start = first_start + k as i64 * SPRINT_LEN;
            let future = k == n;
            let closed = !future && start + SPRINT_LEN - HOUR <= self.end;
            let state = if future {
                "future"
            } else if closed {
                "closed"
            } else {
                "active"
            };
            let complete = if closed { Some(start + SPRINT_LEN - HOUR - self.rng.random_range(0..5 * HOUR)) } else { None };
            let sprint_id = take(&mut self.ids.sprint);
            let sprint = Sprint {
                id: sprint_id,
                tenant: self.plan.tenant.clone(),
                external_id: take(&mut self.ids.external_sprint),
                board: self.plan.board.clone(),
                name: format!("{} Sprint {}", self.plan.project, k + 1),
                goal: pick(&mut self.rng, words::GOALS).to_string(),
                state,
                start_date: start,
                end_date: start + SPRINT_LEN - HOUR,
                complete_date: complete,
            };
            self.sink.sprint(&sprint)?;

            let mut members: Vec<Member> = Vec::new();
            for &i in &carry {
                members.push(Member { issue: i, added_at: prev_complete, removed_at: None });
            }
            for &i in &removed_last {
                if self.rng.random_bool(0.5) {
                    members.push(Member { issue: i, added_at: start.min(self.end) - 30 * 60, removed_at: None });
                }
            }
            let target = (self.plan.issues_per_sprint * self.rng.random_range(0.7..1.3)).round() as usize;
            let fresh = target.saturating_sub(members.len()).max(2);
            let horizon = start.min(self.end);
            for _ in 0..fresh {
                let created = horizon - secs(&mut self.rng, 0.05, 30.0);
                let idx = self.new_issue(created, None);
                let added = created + ((horizon - created) as f64 * self.rng.random_range(0.5..0.99)) as i64;
                let removed = if !future && self.rng.random_bool(0.04) {
                    Some(start + secs(&mut self.rng, 0.5, 7.0)).filter(|r| *r <= self.end)
                } else {
                    None
                };
                members.push(Member { issue: idx, added_at: added, removed_at: removed });
            }
            // Backlog-only issues: created, never planned.
            for _ in 0..self.rng.random_range(0..=2) {
                let created = horizon - secs(&mut self.rng, 0.05, 14.0);
                self.new_issue(created, None);
            }
            if !future {
                // Work starts on planned issues that are not started yet and were not pulled out.
                for m in &members {
                    if m.removed_at.is_none() && !self.issues[m.issue].started() {
                        let t0 = start + secs(&mut self.rng, 0.0, 9.0);
                        self.start_work(m.issue, t0);
                    }
                }
                // Mid-sprint additions (often bugs), started soon after.
                let adds = weighted(&mut self.rng, &[(0usize, 40), (1, 30), (2, 20), (3, 10)]);
                for _ in 0..adds {
                    let created = start + secs(&mut self.rng, 0.3, 9.0);
                    if created > self.end {
                        continue;
                    }
                    let ty = if self.rng.random_bool(0.5) { Some("Bug") } else { None };
                    let idx = self.new_issue(created, ty);
                    let added = created + self.rng.random_range(900..3600);
                    if added > self.end {
                        continue;
                    }
                    let t0 = added + secs(&mut self.rng, 0.0, 1.0);
                    self.start_work(idx, t0);
                    members.push(Member { issue: idx, added_at: added, removed_at: None });
                }
                // Re-estimates during the sprint.
                for m in &members {
                    if self.rng.random_bool(0.08) {
                        let at = start + secs(&mut self.rng, 0.2, 5.0);
                        self.reestimate(m.issue, at);
                    }
                }
            }

            carry.clear();
            removed_last.clear();
            for m in &members {
                let row = Membership {
                    id: take(&mut self.ids.membership),
                    tenant: self.plan.tenant.clone(),
                    sprint_id,
                    issue_id: self.issues[m.issue].row.id,
                    added_at: m.added_at,
                    removed_at: m.removed_at,
                };
                self.sink.membership(&row)?;
                match (m.removed_at, complete) {
                    (Some(_), _) => removed_last.push(m.issue),
                    (None, Some(c)) if category(self.issues[m.issue].status_at(c)) != "done" => carry.push(m.issue),
                    _ => {}
                }
            }
            if let Some(c) = complete {
                prev_complete = c;
            }
        }
        let count = self.issues.len();
        self.emit_all()?;
        Ok(count)
    }

    fn new_issue(&mut self, created: i64, ty: Option<&'static str>) -> usize {
        let rng = &mut self.rng;
        let issue_type = ty.unwrap_or_else(|| weighted(rng, &[("Story", 55), ("Bug", 25), ("Task", 15), ("Spike", 5)]));
        let priority = if issue_type == "Bug" {
            weighted(rng, &[("Highest", 8), ("High", 30), ("Medium", 47), ("Low", 12), ("Lowest", 3)])
        } else {
            weighted(rng, &[("Highest", 2), ("High", 15), ("Medium", 62), ("Low", 16), ("Lowest", 5)])
        };
        let points = match issue_type {
            "Story" => Some(weighted(rng, &[(1u32, 10), (2, 20), (3, 30), (5, 25), (8, 12), (13, 3)])),
            "Task" => weighted(rng, &[(None, 30), (Some(1u32), 25), (Some(2), 30), (Some(3), 15)]),
            "Bug" => weighted(rng, &[(None, 50), (Some(1u32), 25), (Some(2), 15), (Some(3), 10)]),
            "Spike" => Some(weighted(rng, &[(2u32, 30), (3, 50), (5, 20)])),
            _ => None,
        };
        let mut labels = Vec::new();
        if issue_type == "Bug" {
            if rng.random_bool(0.15) {
                labels.push("production");
            }
            if rng.random_bool(0.10) {
                labels.push("customer");
            }
        }
        if rng.random_bool(0.15) {
            labels.push(pick(rng, &["tech-debt", "frontend", "backend", "security", "performance"]));
        }
        let components = if rng.random_bool(0.7) { vec![pick(rng, words::COMPONENTS)] } else { vec![] };
        let epic_key = if issue_type != "Epic" && !self.epics.is_empty() && rng.random_bool(0.6) {
            Some(self.epics[rng.random_range(0..self.epics.len())].clone())
        } else {
            None
        };
        let summary = format!("{} {} {}", pick(rng, words::VERBS), pick(rng, words::OBJECTS), pick(rng, words::QUALIFIERS));
        let reporter = pick(rng, &self.team).to_string();
        let key = format!("{}-{}", self.plan.project, self.next_key);
        self.next_key += 1;
        let mut sim = IssueSim {
            row: Issue {
                id: take(&mut self.ids.issue),
                tenant: self.plan.tenant.clone(),
                issue_key: key,
                project_key: self.plan.project.clone(),
                description: format!("As a user I want to {} so that it works {}.", summary.to_lowercase(), pick(rng, words::QUALIFIERS)),
                summary,
                issue_type,
                status: "To Do",
                status_category: "todo",
                priority,
                assignee: None,
                reporter,
                story_points: points,
                labels,
                components,
                epic_key,
                created_at: created,
                updated_at: created,
                resolved_at: None,
            },
            timeline: Vec::new(),
            changes: Vec::new(),
            points_now: points,
        };
        if let Some(p) = points {
            let at = created + rng.random_range(0..600);
            sim.changes.push(("story_points", None, Some(p.to_string()), at));
        }
        if rng.random_bool(0.03) {
            let to = pick(rng, &["High", "Highest"]);
            if to != priority {
                sim.changes.push(("priority", Some(priority.to_string()), Some(to.to_string()), created + secs(rng, 0.1, 5.0)));
                sim.row.priority = to;
            }
        }
        self.issues.push(sim);
        self.issues.len() - 1
    }

    fn reestimate(&mut self, idx: usize, at: i64) {
        let scale = [1u32, 2, 3, 5, 8, 13];
        let Some(old) = self.issues[idx].points_now else { return };
        let pos = scale.iter().position(|p| *p == old).unwrap_or(2);
        let new = if self.rng.random_bool(0.7) { scale[(pos + 1).min(5)] } else { scale[pos.saturating_sub(1)] };
        if new != old && at > self.issues[idx].row.created_at {
            let sim = &mut self.issues[idx];
            sim.changes.push(("story_points", Some(old.to_string()), Some(new.to_string()), at));
            sim.points_now = Some(new);
            sim.row.story_points = Some(new);
        }
    }

    /// Builds the workflow from `t0`: In Progress → (Blocked spell) → In Review → (rework) → [QA] → Done,
    /// sometimes reopened after Done.
    fn start_work(&mut self, idx: usize, t0: i64) {
        let rng = &mut self.rng;
        let assignee = pick(rng, &self.team).to_string();
        let points = self.issues[idx].points_now.unwrap_or(2) as f64;
        let mut tl: Vec<(&'static str, i64)> = Vec::new();
        let mut flags: Vec<(i64, i64)> = Vec::new();
        let mut t = t0;
        tl.push(("In Progress", t));
        let dev = points * rng.random_range(0.5..1.3) + rng.random_range(0.5..2.0);
        if rng.random_bool(0.12) {
            t += secs(rng, 0.1, dev.max(0.2));
            tl.push(("Blocked", t));
            let until = t + secs(rng, 0.5, 4.0);
            if rng.random_bool(0.5) {
                flags.push((t, until));
            }
            t = until;
            tl.push(("In Progress", t));
            t += secs(rng, 0.2, dev.max(0.3));
        } else {
            t += (dev * DAY as f64) as i64;
        }
        if rng.random_bool(0.03) {
            let s = t0 + secs(rng, 0.0, 1.0);
            flags.push((s, s + secs(rng, 0.2, 2.0)));
        }
        tl.push(("In Review", t));
        t += secs(rng, 0.1, 1.5);
        if rng.random_bool(0.15) {
            tl.push(("In Progress", t));
            t += secs(rng, 0.3, 2.0);
            tl.push(("In Review", t));
            t += secs(rng, 0.1, 1.0);
        }
        if self.has_qa {
            tl.push(("QA", t));
            t += secs(rng, 0.2, 1.5);
        }
        tl.push(("Done", t));
        if rng.random_bool(0.06) {
            t += secs(rng, 0.5, 6.0);
            tl.push(("In Progress", t));
            t += secs(rng, 0.5, 2.0);
            tl.push(("In Review", t));
            t += secs(rng, 0.1, 1.0);
            tl.push(("Done", t));
        }
        let sim = &mut self.issues[idx];
        sim.changes.push(("assignee", None, Some(assignee.clone()), t0));
        for (s, e) in flags {
            sim.changes.push(("flagged", None, Some("Impediment".into()), s));
            sim.changes.push(("flagged", Some("Impediment".into()), None, e));
        }
        sim.row.assignee = Some(assignee);
        sim.timeline = tl;
    }

    fn emit_all(&mut self) -> std::io::Result<()> {
        let end = self.end;
        let issues = std::mem::take(&mut self.issues);
        for mut sim in issues {
            let tenant = sim.row.tenant.clone();
            let id = sim.row.id;
            let author = sim.row.assignee.clone();
            let mut last = sim.row.created_at;
            let mut prev: Option<&'static str> = None;
            let initial = std::iter::once(("To Do", sim.row.created_at));
            for (to, at) in initial.chain(sim.timeline.iter().copied()).filter(|(_, at)| *at <= end) {
                let row = Transition {
                    id: take(&mut self.ids.transition),
                    tenant: tenant.clone(),
                    issue_id: id,
                    from_status: prev,
                    to_status: to,
                    changed_at: at,
                    author: if prev.is_none() { Some(sim.row.reporter.clone()) } else { author.clone() },
                };
                self.sink.transition(&row)?;
                if to == "Done" {
                    sim.row.resolved_at = Some(at);
                } else {
                    sim.row.resolved_at = None;
                }
                prev = Some(to);
                last = last.max(at);
            }
            let status = prev.unwrap_or("To Do");
            sim.row.status = status;
            sim.row.status_category = category(status);
            if !sim.started() || sim.timeline[0].1 > end {
                // Work had not started by the export: no assignee yet unless pre-assigned.
                sim.row.assignee = None;
            }
            sim.changes.sort_by_key(|c| c.3);
            let mut points_at_end = None;
            for (field, from, to, at) in &sim.changes {
                if *at > end {
                    continue;
                }
                if *field == "story_points" {
                    points_at_end = to.as_ref().and_then(|v| v.parse().ok());
                }
                let row = Change {
                    id: take(&mut self.ids.change),
                    tenant: tenant.clone(),
                    issue_id: id,
                    field,
                    from_value: from.clone(),
                    to_value: to.clone(),
                    changed_at: *at,
                };
                self.sink.change(&row)?;
                last = last.max(*at);
            }
            sim.row.story_points = points_at_end;
            let n_comments = weighted(&mut self.rng, &[(0usize, 25), (1, 25), (2, 20), (3, 15), (4, 10), (6, 5)]);
            let until = sim.row.resolved_at.map(|r| r + DAY).unwrap_or(end).min(end);
            let mut times: Vec<i64> =
                (0..n_comments).filter(|_| until > sim.row.created_at).map(|_| self.rng.random_range(sim.row.created_at..=until)).collect();
            times.sort();
            for (i, at) in times.into_iter().enumerate() {
                let author = if i == 0 && self.rng.random_bool(0.3) {
                    sim.row.reporter.clone()
                } else {
                    pick(&mut self.rng, &self.team).to_string()
                };
                let row = Comment {
                    id: take(&mut self.ids.comment),
                    tenant: tenant.clone(),
                    issue_id: id,
                    author,
                    body: pick(&mut self.rng, words::COMMENTS).to_string(),
                    created_at: at,
                };
                self.sink.comment(&row)?;
                last = last.max(at);
            }
            sim.row.updated_at = last;
            self.sink.issue(&sim.row)?;
        }
        Ok(())
    }
}
