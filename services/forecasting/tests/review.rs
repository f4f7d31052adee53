//! Rankings and the period review (F7) over real PostgreSQL and NATS, from deal events the test
//! publishes for the opportunities service, against hand-computed figures.
//!
//! The data set, November 2026 (calendar-year fiscal calendar, CNY):
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

mod review_support;

use crm_platform::{auth::Caller, fiscal::FiscalCalendar};
use crm_proto::crm::{
    common::v1::Money,
    forecasting::v1::{
        self as pb, ForecastScope, leaderboard_entry, review_service_client::ReviewServiceClient,
    },
    opportunities::v1::{
        CorporateAmount, OpportunityStatus, Payment, PaymentContext, PaymentReceived,
        PaymentRefunded, PaymentSchedule, Refund,
    },
};
use review_support::{Deal, Harness};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

struct Org {
    harness: Harness,
    admin: Caller,
    manager: Caller,
    ravi: Caller,
    mei: Caller,
    tom: Caller,
    wes: Caller,
    /// d1 … d9 of the data set.
    deals: Vec<Uuid>,
}

async fn organisation(overrides: &[(&str, &str)]) -> Org {
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
    async fn review(&self, caller: &Caller, period: &str) -> pb::GetPeriodReviewResponse {
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

    async fn client(&self) -> ReviewServiceClient<Channel> {
        ReviewServiceClient::new(self.harness.app.channel().await)
    }

    async fn leaderboard(
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

fn amount(money: &Option<Money>) -> String {
    money
        .as_ref()
        .map(|money| money.amount.clone())
        .unwrap_or_default()
}

/// (rank, who, name, result, attainment) of each entry.
fn entries(board: &pb::GetLeaderboardResponse) -> Vec<(u32, String, String, String, String)> {
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

fn november(kind: pb::LeaderboardKind) -> pb::GetLeaderboardRequest {
    pb::GetLeaderboardRequest {
        period: "2026-11".into(),
        kind: kind as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn the_leaderboard_ranks_a_teams_reps_and_sub_teams_by_result_without_quotas() {
    let org = organisation(&[]).await;
    let id = |caller: &Caller| caller.user_id.to_string();
    let reps = org
        .leaderboard(&org.manager, november(pb::LeaderboardKind::Rep))
        .await
        .unwrap();
    // No quotas are kept yet: no target, no attainment, ranked by what was won in November.
    assert_eq!(
        entries(&reps),
        [
            (1, id(&org.ravi), "Ravi".into(), "550000".into(), "".into()),
            (2, id(&org.mei), "Mei".into(), "300000".into(), "".into()),
            (3, id(&org.tom), "Tom".into(), "120000".into(), "".into()),
        ]
    );
    assert_eq!((reps.ranked, reps.others_hidden), (3, false));
    assert_eq!(reps.currency_code, "CNY");

    let teams = org
        .leaderboard(&org.manager, november(pb::LeaderboardKind::Team))
        .await
        .unwrap();
    let team = |path: &str, result: &str, rank| {
        (
            rank,
            path.to_owned(),
            path.to_owned(),
            result.to_owned(),
            String::new(),
        )
    };
    assert_eq!(
        entries(&teams),
        [
            team("/northwind/east/east-1/", "850000", 1),
            team("/northwind/east/east-2/", "120000", 2),
        ]
    );

    // The company's sub-teams, below the admin's team.
    let company = org
        .leaderboard(
            &org.admin,
            pb::GetLeaderboardRequest {
                company: true,
                ..november(pb::LeaderboardKind::Team)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        entries(&company),
        [
            team("/northwind/east/", "970000", 1),
            team("/northwind/west/", "900000", 2),
        ]
    );
    // West's rep is on the company's rep leaderboard, first.
    let everyone = org
        .leaderboard(
            &org.admin,
            pb::GetLeaderboardRequest {
                company: true,
                ..november(pb::LeaderboardKind::Rep)
            },
        )
        .await
        .unwrap();
    assert_eq!(entries(&everyone)[0].1, id(&org.wes));
    assert_eq!(everyone.ranked, 4);
}

#[tokio::test]
async fn a_rep_sees_their_teams_leaderboard_and_no_other() {
    let org = organisation(&[]).await;
    let board = org
        .leaderboard(&org.ravi, november(pb::LeaderboardKind::Rep))
        .await
        .unwrap();
    let who: Vec<_> = entries(&board)
        .into_iter()
        .map(|entry| (entry.0, entry.2))
        .collect();
    assert_eq!(who, [(1, "Ravi".to_owned()), (2, "Mei".to_owned())]);
    for team in ["/northwind/east/", "/northwind/west/"] {
        let refused = org
            .leaderboard(
                &org.ravi,
                pb::GetLeaderboardRequest {
                    team_path: team.into(),
                    ..november(pb::LeaderboardKind::Rep)
                },
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{team}");
    }
    let company = org
        .leaderboard(
            &org.manager,
            pb::GetLeaderboardRequest {
                company: true,
                ..november(pb::LeaderboardKind::Rep)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(company.code(), Code::PermissionDenied);
    let both = org
        .leaderboard(
            &org.admin,
            pb::GetLeaderboardRequest {
                company: true,
                team_path: "/northwind/".into(),
                ..november(pb::LeaderboardKind::Rep)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(both.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn an_organisation_that_hides_the_team_from_reps_shows_a_rep_their_own_line_and_rank() {
    let org = organisation(&[("CRM_FORECASTING_LEADERBOARD_VISIBLE_TO_REPS", "false")]).await;
    let board = org
        .leaderboard(&org.mei, november(pb::LeaderboardKind::Rep))
        .await
        .unwrap();
    assert_eq!(
        entries(&board),
        [(
            2,
            org.mei.user_id.to_string(),
            "Mei".into(),
            "300000".into(),
            "".into()
        )]
    );
    assert_eq!((board.ranked, board.others_hidden), (2, true));
    // A manager still sees everyone.
    let managers = org
        .leaderboard(&org.manager, november(pb::LeaderboardKind::Rep))
        .await
        .unwrap();
    assert_eq!((managers.entries.len(), managers.others_hidden), (3, false));
}

#[tokio::test]
async fn the_trend_shows_each_months_result_against_the_month_before() {
    let org = organisation(&[]).await;
    let request = org.harness.request(
        &org.ravi,
        pb::GetAttainmentTrendRequest {
            period: "2026-11".into(),
            periods: 3,
            ..Default::default()
        },
    );
    let trend = org
        .client()
        .await
        .get_attainment_trend(request)
        .await
        .unwrap()
        .into_inner();
    let points: Vec<_> = trend
        .points
        .iter()
        .map(|point| {
            (
                point.period.as_ref().unwrap().label.clone(),
                amount(&point.result),
                amount(&point.result_change),
                point.attainment_percent.clone(),
            )
        })
        .collect();
    let point = |label: &str, result: &str, change: &str| {
        (
            label.to_owned(),
            result.to_owned(),
            change.to_owned(),
            String::new(),
        )
    };
    assert_eq!(
        points,
        [
            point("2026-09", "0", ""),
            point("2026-10", "500000", "500000"),
            point("2026-11", "550000", "50000"),
        ]
    );
    let too_many = org.harness.request(
        &org.ravi,
        pb::GetAttainmentTrendRequest {
            period: "2026-11".into(),
            periods: 25,
            ..Default::default()
        },
    );
    let refused = org
        .client()
        .await
        .get_attainment_trend(too_many)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn the_period_review_counts_the_teams_result_win_rates_top_deals_and_reps_against_the_average()
 {
    let org = organisation(&[]).await;
    let request = org.harness.request(
        &org.manager,
        pb::GetPeriodReviewRequest {
            period: "2026-11".into(),
            top: 2,
            ..Default::default()
        },
    );
    let review = org
        .client()
        .await
        .get_period_review(request)
        .await
        .unwrap()
        .into_inner();
    // East won 300000 + 250000 + 300000 + 120000 in November; 4 of 6 closed deals,
    // 970000 of 1470000 closed.
    assert_eq!(amount(&review.result), "970000");
    let rate = review.win_rate.as_ref().unwrap();
    assert_eq!((rate.won, rate.lost), (4, 2));
    assert_eq!(amount(&rate.lost_amount), "500000");
    assert_eq!(
        (
            rate.by_count_percent.as_str(),
            rate.by_amount_percent.as_str()
        ),
        ("66.67", "65.99")
    );
    // No quotas or forecast calls; nothing collected of the month's bookings.
    assert_eq!(review.target, None);
    assert_eq!(review.attainment_percent, "");
    assert_eq!(review.forecast_accuracy, None);
    assert_eq!(review.collection_rate_percent, "0.00");
    // The two largest of each: the 300000s by the earlier close.
    let amounts = |deals: &[pb::ReviewDeal]| {
        deals
            .iter()
            .map(|deal| (amount(&deal.amount), deal.closed_on.clone()))
            .collect::<Vec<_>>()
    };
    let deal = |amount: &str, day: &str| (amount.to_owned(), day.to_owned());
    assert_eq!(
        amounts(&review.top_wins),
        [deal("300000", "2026-11-05"), deal("300000", "2026-11-06")]
    );
    assert_eq!(
        amounts(&review.top_losses),
        [deal("400000", "2026-11-25"), deal("100000", "2026-11-20")]
    );
    // 970000 over East's three reps = 323333.33.
    assert_eq!(amount(&review.team_average_result), "323333.33");
    let reps: Vec<_> = review
        .reps
        .iter()
        .map(|rep| {
            (
                rep.rank,
                rep.display_name.clone(),
                amount(&rep.result),
                amount(&rep.result_against_average),
                rep.result_against_average_percent.clone(),
                rep.win_rate.as_ref().unwrap().by_count_percent.clone(),
                rep.win_rate_against_team_points.clone(),
            )
        })
        .collect();
    let rep =
        |rank, name: &str, result: &str, against: &str, percent: &str, rate: &str, points: &str| {
            (
                rank,
                name.to_owned(),
                result.to_owned(),
                against.to_owned(),
                percent.to_owned(),
                rate.to_owned(),
                points.to_owned(),
            )
        };
    assert_eq!(
        reps,
        [
            // 550000 − 323333.33 = 226666.67, 70.10 % of the average; 2 of 3 won.
            rep(1, "Ravi", "550000", "226666.67", "70.10", "66.67", "0.00"),
            rep(2, "Mei", "300000", "-23333.33", "-7.22", "50.00", "-16.67"),
            rep(
                3,
                "Tom",
                "120000",
                "-203333.33",
                "-62.89",
                "100.00",
                "33.33"
            ),
        ]
    );

    // A rep reviews their own period, not the team's, with their current call (the later of
    // two) judged against what they booked: commit 100000 for 120000 is 20000 low, 16.67 %.
    for (commit, at) in [
        ("90000", "2026-11-02T09:00:00Z"),
        ("100000", "2026-11-20T09:00:00Z"),
    ] {
        call_of(&org, &org.tom, commit, at).await;
    }
    let own = org.harness.request(
        &org.tom,
        pb::GetPeriodReviewRequest {
            period: "2026-11".into(),
            ..Default::default()
        },
    );
    let own = org
        .client()
        .await
        .get_period_review(own)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(amount(&own.result), "120000");
    assert_eq!(own.reps.len(), 1);
    let accuracy = own.forecast_accuracy.unwrap();
    assert_eq!(
        (
            amount(&accuracy.forecast),
            amount(&accuracy.error),
            accuracy.absolute_percentage_error.as_str()
        ),
        ("100000".into(), "-20000".into(), "16.67")
    );
    let team = org.harness.request(
        &org.tom,
        pb::GetPeriodReviewRequest {
            scope: Some(ForecastScope {
                team_path: "/northwind/east/".into(),
                ..Default::default()
            }),
            period: "2026-11".into(),
            ..Default::default()
        },
    );
    let refused = org
        .client()
        .await
        .get_period_review(team)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

/// A rep's forecast call for November 2026 as the calls family stores it (the period is over,
/// so it cannot be submitted through the API any more): `commit`, submitted `at`.
async fn call_of(org: &Org, rep: &Caller, commit: &str, at: &str) {
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
async fn quota(org: &Org, level: &str, holder_key: &str, team: &str, month: u32, target: &str) {
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

#[tokio::test]
async fn with_quotas_the_leaderboard_ranks_by_attainment_and_the_review_shows_it() {
    let org = organisation(&[]).await;
    let (east_1, east_2) = ("/northwind/east/east-1/", "/northwind/east/east-2/");
    quota(
        &org,
        "rep",
        &org.ravi.user_id.to_string(),
        east_1,
        11,
        "500000",
    )
    .await;
    quota(
        &org,
        "rep",
        &org.mei.user_id.to_string(),
        east_1,
        11,
        "400000",
    )
    .await;
    quota(
        &org,
        "rep",
        &org.ravi.user_id.to_string(),
        east_1,
        10,
        "400000",
    )
    .await;
    quota(
        &org,
        "team",
        "/northwind/east/",
        "/northwind/east/",
        11,
        "1200000",
    )
    .await;
    quota(&org, "team", east_1, east_1, 11, "1000000").await;
    quota(&org, "team", east_2, east_2, 11, "100000").await;

    // 550000 of 500000, 300000 of 400000; Tom has no quota: after both.
    let reps = org
        .leaderboard(&org.manager, november(pb::LeaderboardKind::Rep))
        .await
        .unwrap();
    let shown: Vec<_> = entries(&reps)
        .into_iter()
        .map(|entry| (entry.0, entry.2, entry.4))
        .collect();
    let standing =
        |rank, name: &str, attainment: &str| (rank, name.to_owned(), attainment.to_owned());
    assert_eq!(
        shown,
        [
            standing(1, "Ravi", "110.00"),
            standing(2, "Mei", "75.00"),
            standing(3, "Tom", "")
        ]
    );
    assert_eq!(amount(&reps.entries[0].target), "500000");
    // East-2's 120000 of 100000 is ahead of east-1's 850000 of 1000000.
    let teams = org
        .leaderboard(&org.manager, november(pb::LeaderboardKind::Team))
        .await
        .unwrap();
    let shown: Vec<_> = entries(&teams)
        .into_iter()
        .map(|entry| (entry.0, entry.1, entry.4))
        .collect();
    assert_eq!(
        shown,
        [
            (1, east_2.to_owned(), "120.00".to_owned()),
            (2, east_1.to_owned(), "85.00".to_owned())
        ]
    );

    // Ravi's October: 500000 of 400000 = 125 %; November 110 %: 15 points down.
    let request = org.harness.request(
        &org.ravi,
        pb::GetAttainmentTrendRequest {
            period: "2026-11".into(),
            periods: 2,
            ..Default::default()
        },
    );
    let trend = org
        .client()
        .await
        .get_attainment_trend(request)
        .await
        .unwrap()
        .into_inner();
    let points: Vec<_> = trend
        .points
        .iter()
        .map(|point| {
            (
                point.attainment_percent.clone(),
                point.attainment_change_points.clone(),
            )
        })
        .collect();
    assert_eq!(
        points,
        [
            ("125.00".to_owned(), String::new()),
            ("110.00".to_owned(), "-15.00".to_owned())
        ]
    );

    // East's 970000 of 1200000 = 80.833…%; the reps' (110 + 75) / 2 = 92.5 on average.
    let request = org.harness.request(
        &org.manager,
        pb::GetPeriodReviewRequest {
            period: "2026-11".into(),
            ..Default::default()
        },
    );
    let review = org
        .client()
        .await
        .get_period_review(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(amount(&review.target), "1200000");
    assert_eq!(review.attainment_percent, "80.83");
    assert_eq!(review.team_average_attainment_percent, "92.50");
    let against: Vec<_> = review
        .reps
        .iter()
        .map(|rep| rep.attainment_against_average_points.clone())
        .collect();
    assert_eq!(against, ["17.50", "-17.50", ""]);
}

/// A payment_received event for `deal` of `corporate` yuan (none: not convertible).
fn payment(deal: Uuid, payment_id: Uuid, corporate: Option<&str>) -> PaymentReceived {
    PaymentReceived {
        schedule: Some(PaymentSchedule {
            id: Uuid::now_v7().to_string(),
            opportunity_id: deal.to_string(),
            version: 1,
            ..Default::default()
        }),
        payment: Some(Payment {
            id: payment_id.to_string(),
            received_on: "2026-11-28".into(),
            ..Default::default()
        }),
        context: Some(PaymentContext {
            corporate_amount: corporate.map(|amount| CorporateAmount {
                amount: Some(Money {
                    currency_code: "CNY".into(),
                    amount: amount.into(),
                }),
                rate: "1".into(),
                rate_date: "2026-11-28".into(),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_period_review_counts_what_was_collected_of_the_periods_bookings() {
    let mut org = organisation(&[]).await;
    let [d1, _, _, d4, _, _, d7, d8, _] = org.deals[..] else {
        panic!("nine deals");
    };
    let first = Uuid::now_v7();
    for event in [
        // d1: 200,000 of its 300,000 — sent twice, counted once.
        payment(d1, first, Some("200000")),
        payment(d1, first, Some("200000")),
        // d4: all 300,000, of which 50,000 refunded below.
        payment(d4, Uuid::now_v7(), Some("300000")),
        // d7 is the west's; d8 was booked in October: neither counts for the east's November.
        payment(d7, Uuid::now_v7(), Some("900000")),
        payment(d8, Uuid::now_v7(), Some("500000")),
        // Not convertible to the corporate currency: in no corporate figure.
        payment(d1, Uuid::now_v7(), None),
    ] {
        org.harness.publish(&event).await;
    }
    let of_d4 = payment(d4, Uuid::now_v7(), Some("50000"));
    let refund = PaymentRefunded {
        schedule: of_d4.schedule,
        payment: of_d4.payment,
        refund: Some(Refund {
            id: Uuid::now_v7().to_string(),
            recorded_at: Some(crm_platform::time::to_timestamp(
                "2026-12-02T10:00:00Z".parse().unwrap(),
            )),
            ..Default::default()
        }),
        context: of_d4.context,
        ..Default::default()
    };
    org.harness.publish(&refund).await;
    org.harness.settled().await;

    // The east booked 970,000 in November; collected 200,000 + 300,000 − 50,000 = 450,000 of
    // it: 46.39 %.
    let east = org.review(&org.manager, "2026-11").await;
    assert_eq!(east.collection_rate_percent, "46.39");
    // Ravi booked 550,000 (d1, d2) and collected 200,000 of it: 36.36 %.
    let ravi = org.review(&org.ravi, "2026-11").await;
    assert_eq!(ravi.collection_rate_percent, "36.36");
}
