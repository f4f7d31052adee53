//! November 2026's organisation and deals, shared by the rankings' and the period review's
//! tests. The data set, November 2026 (calendar-year fiscal calendar, CNY):
//!
//! | deal | owner (team)         | outcome | amount  | closed     |
//! |------|----------------------|---------|---------|------------|
//! | d1   | Ravi (east-1)        | won     | 300000  | 2026-11-05 |
//! | d2   | Ravi                 | won     | 250000  | 2026-11-10 |
//! | d3   | Ravi                 | lost    | 100000  | 2026-11-20 |
//! | d4   | Mei (east-1)         | won     | 300000  | 2026-11-06 |
//! | d5   | Mei                  | lost    | 400000  | 2026-11-25 |
//! | d6   | Tom (east-2)         | won     | 120000  | 2026-11-15 |
//! | d7   | Wes (west)           | won     | 900000  | 2026-11-12 |
//! | d8   | Ravi                 | won     | 500000  | 2026-10-15 |
//! | d9   | Mei                  | open    | 200000  | 2026-11-30 |

use crm_platform::{auth::Caller, fiscal::FiscalCalendar};
use crm_proto::crm::{
    common::v1::Money,
    forecasting::v1::{self as pb, leaderboard_entry, review_service_client::ReviewServiceClient},
    opportunities::v1::OpportunityStatus,
};
use tonic::transport::Channel;
use uuid::Uuid;

use super::{Deal, Harness};

pub struct Org {
    pub harness: Harness,
    pub admin: Caller,
    pub manager: Caller,
    pub ravi: Caller,
    pub mei: Caller,
    pub tom: Caller,
    pub wes: Caller,
    /// d1 … d9 of the data set.
    pub deals: Vec<Uuid>,
}

pub async fn organisation(overrides: &[(&str, &str)]) -> Org {
    let mut harness = Harness::start(FiscalCalendar::default(), overrides).await;
    let admin = harness.person("Ada", "admin", "/northwind/").await;
    let manager = harness.person("Ann", "manager", "/northwind/east/").await;
    let ravi = harness
        .person("Ravi", "rep", "/northwind/east/east-1/")
        .await;
    let mei = harness
        .person("Mei", "rep", "/northwind/east/east-1/")
        .await;
    let tom = harness
        .person("Tom", "rep", "/northwind/east/east-2/")
        .await;
    let wes = harness.person("Wes", "rep", "/northwind/west/").await;
    let account_id = Uuid::now_v7();
    let closed = |owner, status, amount, day| Deal {
        owner,
        account_id,
        amount,
        status,
        day,
        probability: 100,
        lines: &[],
    };
    use OpportunityStatus::{Lost, Open, Won};
    let mut deals = Vec::new();
    for deal in [
        closed(&ravi, Won, "300000", "2026-11-05"),
        closed(&ravi, Won, "250000", "2026-11-10"),
        closed(&ravi, Lost, "100000", "2026-11-20"),
        closed(&mei, Won, "300000", "2026-11-06"),
        closed(&mei, Lost, "400000", "2026-11-25"),
        closed(&tom, Won, "120000", "2026-11-15"),
        closed(&wes, Won, "900000", "2026-11-12"),
        closed(&ravi, Won, "500000", "2026-10-15"),
        Deal {
            probability: 40,
            ..closed(&mei, Open, "200000", "2026-11-30")
        },
    ] {
        deals.push(harness.deal(&deal).await);
    }
    harness.settled().await;
    Org {
        harness,
        admin,
        manager,
        ravi,
        mei,
        tom,
        wes,
        deals,
    }
}

impl Org {
    /// The period review of `period` as `caller` reads it.
    pub async fn review(&self, caller: &Caller, period: &str) -> pb::GetPeriodReviewResponse {
        let request = self.harness.request(
            caller,
            pb::GetPeriodReviewRequest {
                period: period.into(),
                ..Default::default()
            },
        );
        self.client()
            .await
            .get_period_review(request)
            .await
            .unwrap()
            .into_inner()
    }

    pub async fn client(&self) -> ReviewServiceClient<Channel> {
        ReviewServiceClient::new(self.harness.app.channel().await)
    }

    pub async fn leaderboard(
        &self,
        caller: &Caller,
        request: pb::GetLeaderboardRequest,
    ) -> Result<pb::GetLeaderboardResponse, tonic::Status> {
        let request = self.harness.request(caller, request);
        Ok(self
            .client()
            .await
            .get_leaderboard(request)
            .await?
            .into_inner())
    }
}

pub fn amount(money: &Option<Money>) -> String {
    money
        .as_ref()
        .map(|money| money.amount.clone())
        .unwrap_or_default()
}

/// (rank, who, name, result, attainment) of each entry.
pub fn entries(board: &pb::GetLeaderboardResponse) -> Vec<(u32, String, String, String, String)> {
    board
        .entries
        .iter()
        .map(|entry| {
            let who = match entry.of.as_ref().unwrap() {
                leaderboard_entry::Of::UserId(id) => id.clone(),
                leaderboard_entry::Of::TeamPath(path) => path.clone(),
            };
            (
                entry.rank,
                who,
                entry.display_name.clone(),
                amount(&entry.result),
                entry.attainment_percent.clone(),
            )
        })
        .collect()
}

pub fn november(kind: pb::LeaderboardKind) -> pb::GetLeaderboardRequest {
    pb::GetLeaderboardRequest {
        period: "2026-11".into(),
        kind: kind as i32,
        ..Default::default()
    }
}

pub async fn call_of(org: &Org, rep: &Caller, commit: &str, at: &str) {
    let commit: rust_decimal::Decimal = commit.parse().unwrap();
    sqlx::query(
        "INSERT INTO forecast_calls (id, kind, user_id, team_path, period_kind, period_start, \
         period_end, period_label, submitted_by, submitted_at, currency, commit_amount, \
         best_case_amount, pipeline_amount, pipeline_closed, pipeline_commit, \
         pipeline_best_case, pipeline_pipeline, pipeline_omitted) \
         VALUES ($1, 'rep', $2, $3, 'month', '2026-11-01', '2026-12-01', '2026-11', $2, \
         $4::timestamptz, 'CNY', $5, $5, $5, 0, 0, 0, 0, 0)",
    )
    .bind(Uuid::now_v7())
    .bind(rep.user_id)
    .bind(rep.team_path.as_str())
    .bind(at)
    .bind(commit)
    .execute(org.harness.app.pool("forecasting"))
    .await
    .unwrap();
}

/// A revenue quota in CNY as QuotaService stores it: `level` company, team or rep.
pub async fn quota(org: &Org, level: &str, holder_key: &str, team: &str, month: u32, target: &str) {
    let start = chrono::NaiveDate::from_ymd_opt(2026, month, 1).unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(2026, month + 1, 1).unwrap();
    sqlx::query(
        "INSERT INTO quotas (id, level, holder_key, holder_team_path, kind, period_kind, \
         period_label, period_start, period_end, currency, target, version, set_by) \
         VALUES ($1, $2, $3, $4, 'revenue', 'month', $5, $6, $7, 'CNY', $8, 1, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(level)
    .bind(holder_key)
    .bind(team)
    .bind(start.format("%Y-%m").to_string())
    .bind(start)
    .bind(end)
    .bind(target.parse::<rust_decimal::Decimal>().unwrap())
    .bind(org.admin.user_id)
    .execute(org.harness.app.pool("forecasting"))
    .await
    .unwrap();
}
