//! Northwind as the forecast journey needs it: the first admin as `crm create-admin` makes her,
//! the team tree and the people through the gateway's front door, the corporate currency and a
//! fiscal calendar worked out by hand from today.

use std::time::Duration;

use chrono::{Datelike, Months, NaiveDate, Utc};
use crm_platform::auth::{Caller, Role, TeamPath};
use crm_test_support::eventually;
use serde_json::{Value, json};

use crate::{
    first_admin::first_admin,
    suite::{Suite, ok},
};

pub const EAST: &str = "/northwind/east/";
pub const EAST_1: &str = "/northwind/east/east-1/";
pub const WEST: &str = "/northwind/west/";
const PASSWORD: &str = "forecast-journey-Pa55";

/// The fiscal calendar of the journey, computed by hand (not with `crm_platform::fiscal`, which
/// is under test): the fiscal year starts in April, May or June — whichever makes this month
/// the first of a fiscal quarter — so what is won or lost today counts in the quarter's first
/// month whatever day the test runs, and the months before this one are earlier quarters.
/// Fiscal years are named by the year they start in (the default naming).
pub struct Calendar {
    pub today: NaiveDate,
    pub start_month: u32,
    /// `FY2026-Q3`, and its fiscal year `FY2026`.
    pub quarter: String,
    pub year: String,
    /// The first days of the quarter's three months (this month first) and of the month after.
    pub months: [NaiveDate; 4],
}

impl Calendar {
    pub fn today() -> Self {
        let today = Utc::now().date_naive();
        let month = today.month();
        let start_month = (month - 1) % 3 + 4;
        let fiscal_year = if month >= start_month {
            today.year()
        } else {
            today.year() - 1
        };
        let quarter = (month + 12 - start_month) % 12 / 3 + 1;
        let first = today.with_day(1).unwrap();
        let months = [0, 1, 2, 3].map(|later| first + Months::new(later));
        Calendar {
            today,
            start_month,
            quarter: format!("FY{fiscal_year}-Q{quarter}"),
            year: format!("FY{fiscal_year}"),
            months,
        }
    }

    /// Day `day` of the quarter's `month`th month (0: this one; 3: the month after the quarter).
    pub fn day(&self, month: usize, day: u32) -> String {
        self.months[month].with_day(day).unwrap().to_string()
    }

    /// The label of the quarter's `month`th month (`2026-12`).
    pub fn month_label(&self, month: usize) -> String {
        self.months[month].format("%Y-%m").to_string()
    }

    /// The first day of the month `back` months before this one.
    pub fn months_ago(&self, back: u32) -> NaiveDate {
        self.months[0] - Months::new(back)
    }

    /// The quarter's last day.
    pub fn quarter_end(&self) -> String {
        self.months[3].pred_opt().unwrap().to_string()
    }
}

/// The cast of scenario.md: Ada (admin), Mei (manager of East), Ravi and Nora (reps of East-1,
/// Nora new this month) and Wes (rep of West).
pub struct Cast {
    pub ada: Caller,
    pub mei: Caller,
    pub ravi: Caller,
    pub nora: Caller,
    pub wes: Caller,
}

impl Cast {
    /// A name for a user id the API answers with.
    pub fn name_of(&self, user_id: &str) -> &'static str {
        [
            (&self.ada, "Ada"),
            (&self.mei, "Mei"),
            (&self.ravi, "Ravi"),
            (&self.nora, "Nora"),
            (&self.wes, "Wes"),
        ]
        .into_iter()
        .find(|(caller, _)| caller.user_id.to_string() == user_id)
        .map_or("someone else", |(_, name)| name)
    }
}

pub fn id(caller: &Caller) -> String {
    caller.user_id.to_string()
}

/// Builds Northwind, sets CNY and the fiscal calendar, and waits until the opportunities and
/// forecasting services have heard of the settings and the forecasting directory of everyone.
pub async fn northwind(suite: &Suite, calendar: &Calendar) -> Cast {
    let first_admin = first_admin(
        &suite.app,
        "northwind",
        "Northwind Industrial",
        "ada@northwind.example",
        PASSWORD,
    )
    .await;
    let ada = first_admin.caller();
    let company = first_admin.team_id.to_string();

    let team = |slug: &'static str, name: &'static str, parent: String| {
        let ada = &ada;
        async move {
            let body = json!({"slug": slug, "name": name, "parent_team_id": parent});
            ok(suite.post(ada, "/v1/teams", body).await)["team"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let east = team("east", "East", company.clone()).await;
    let west = team("west", "West", company).await;
    let east_1 = team("east-1", "East-1", east.clone()).await;

    let person = |name: &'static str, role: &'static str, team: String, started_on: String| {
        let ada = &ada;
        async move {
            let body = json!({"email": format!("{}@northwind.example", name.to_lowercase()),
                "display_name": name, "role": role, "team_id": team, "password": PASSWORD,
                "started_on": started_on});
            caller(&ok(suite.post(ada, "/v1/users", body).await)["user"])
        }
    };
    let mei = person("Mei", "ROLE_MANAGER", east, "2021-03-01".into()).await;
    let ravi = person("Ravi", "ROLE_REP", east_1.clone(), "2023-09-01".into()).await;
    let nora = person("Nora", "ROLE_REP", east_1, calendar.months[0].to_string()).await;
    let wes = person("Wes", "ROLE_REP", west, "2024-02-01".into()).await;
    assert_eq!(
        [&mei, &ravi, &nora, &wes].map(|caller| caller.team_path.as_str()),
        [EAST, EAST_1, EAST_1, WEST]
    );

    let settings = ok(suite
        .patch(
            &ada,
            "/v1/orgSettings",
            json!({"corporate_currency": "CNY", "fiscal_year_start_month": calendar.start_month}),
        )
        .await)["settings"]
        .clone();
    assert_eq!(settings["fiscal_year_start_month"], calendar.start_month);
    let version = settings["version"].as_u64().unwrap();
    for service in ["opportunities", "forecasting"] {
        let sql = format!("SELECT count(*) FROM org_settings WHERE version >= {version}");
        eventually(Duration::from_secs(20), "the settings are heard", || {
            let sql = sql.clone();
            async move { suite.count(service, &sql).await == 1 }
        })
        .await;
    }
    let cast = Cast {
        ada,
        mei,
        ravi,
        nora,
        wes,
    };
    let ids: Vec<String> = [&cast.ada, &cast.mei, &cast.ravi, &cast.nora, &cast.wes]
        .map(|caller| format!("'{}'", caller.user_id))
        .to_vec();
    let sql = format!(
        "SELECT count(*) FROM org_users WHERE from_directory AND user_id IN ({})",
        ids.join(", ")
    );
    eventually(
        Duration::from_secs(20),
        "the forecasting directory knows everyone",
        || async { suite.count("forecasting", &sql).await == 5 },
    )
    .await;
    cast
}

/// The caller a user of the gateway's answer signs in as.
fn caller(user: &Value) -> Caller {
    let role = match user["role"].as_str().unwrap() {
        "ROLE_ADMIN" => Role::Admin,
        "ROLE_MANAGER" => Role::Manager,
        _ => Role::Rep,
    };
    Caller::user(
        user["id"].as_str().unwrap().parse().unwrap(),
        role,
        TeamPath::parse(user["team_path"].as_str().unwrap()).unwrap(),
    )
}
