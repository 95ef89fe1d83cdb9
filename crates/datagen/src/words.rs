//! Vocabulary for generated names and text. Plain lists: the generator picks from them by index.

pub const TENANTS: &[&str] =
    &["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "soylent", "wonka", "oscorp"];

pub const PROJECTS: &[(&str, &str)] = &[
    ("PAY", "Payments"),
    ("WEB", "Web"),
    ("API", "Platform API"),
    ("MOB", "Mobile"),
    ("OPS", "Operations"),
    ("DATA", "Data"),
    ("AUTH", "Identity"),
    ("SRCH", "Search"),
    ("BILL", "Billing"),
    ("CORE", "Core"),
    ("INFRA", "Infrastructure"),
    ("UX", "Design Systems"),
];

pub const PEOPLE: &[&str] = &[
    "alice.ng",
    "bob.stone",
    "carol.diaz",
    "dan.okafor",
    "erin.walsh",
    "farid.haddad",
    "grace.liu",
    "hugo.berg",
    "ines.costa",
    "jon.park",
    "kira.novak",
    "liam.doyle",
    "mei.tanaka",
    "nils.holm",
    "olga.petrova",
    "pablo.ruiz",
    "quinn.adams",
    "rosa.silva",
    "sam.kim",
    "tara.singh",
];

pub const COMPONENTS: &[&str] = &["backend", "frontend", "database", "api", "mobile", "infra", "docs"];

pub const VERBS: &[&str] = &["Add", "Fix", "Refactor", "Migrate", "Improve", "Remove", "Validate", "Cache", "Document", "Support"];
pub const OBJECTS: &[&str] = &[
    "checkout flow",
    "login page",
    "invoice export",
    "search index",
    "user settings",
    "audit log",
    "rate limiter",
    "webhook retries",
    "report builder",
    "notification service",
    "payment gateway",
    "onboarding wizard",
    "session handling",
    "CSV import",
    "dashboard widgets",
    "feature flags",
];
pub const QUALIFIERS: &[&str] = &[
    "for enterprise plans",
    "on mobile",
    "under load",
    "in EU region",
    "for new users",
    "after upgrade",
    "with SSO",
    "behind the proxy",
    "in dark mode",
    "for large accounts",
];

pub const COMMENTS: &[&str] = &[
    "Can you take a look at this?",
    "Reproduced on staging.",
    "PR is up for review.",
    "Blocked by the upstream API change.",
    "Added tests, ready for QA.",
    "Works for me now, closing.",
    "Customer reported this again today.",
    "Let's split this into two stories.",
    "Estimate looks low, bumping it.",
    "Deployed to production.",
];

pub const GOALS: &[&str] = &[
    "Ship the new checkout",
    "Stabilize the release",
    "Reduce bug backlog",
    "Launch onboarding v2",
    "Performance hardening",
    "Finish the migration",
    "Customer escalations first",
];
