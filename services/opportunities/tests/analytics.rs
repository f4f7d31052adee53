//! AnalyticsService over gRPC on a small fixed data set written straight into the database:
//! open deals for the priority board, roll-up rows for the funnel (as the stage changes, wins
//! and losses would have left them), closed deals with competitors for the competitive
//! analysis. Every figure below is worked out by hand in the comments.

use chrono::{Duration, NaiveDate, Utc};
use crm_platform::{
    auth::Caller,
    money::CurrencyCode,
    org::{OrgDirectory, OrgSettings},
};
use crm_proto::crm::opportunities::v1::{
    self as pb, analytics_service_client::AnalyticsServiceClient,
};
use crm_test_support::{TestApp, authorized, user};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;

const DIRECT: &str = "01900000-0000-7000-8000-000000000001";
const QUALIFY: &str = "01900000-0000-7000-8000-000000000011";
const DEVELOP: &str = "01900000-0000-7000-8000-000000000012";
const PROPOSE: &str = "01900000-0000-7000-8000-000000000013";
const CLOSED_WON: &str = "01900000-0000-7000-8000-000000000015";
const CLOSED_LOST: &str = "01900000-0000-7000-8000-000000000016";
const DAY: i64 = 86_400;

struct People {
    ravi: Caller,
    mei: Caller,
    omar: Caller,
    erin: Caller,
    admin: Caller,
}

struct Harness {
    app: TestApp,
    client: AnalyticsServiceClient<Channel>,
    people: People,
}

fn id(text: &str) -> Uuid {
    text.parse().unwrap()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A deal row: open unless a close (status, day) is given.
struct Deal<'a> {
    owner: &'a Caller,
    probability: i16,
    /// In CNY, the corporate currency (a deal without one is in USD with no rate).
    corporate: Option<&'a str>,
    close_in_days: i64,
    status: i16,
    closed_on: Option<&'a str>,
    competitors: serde_json::Value,
    /// Days since its last activity.
    idle_days: i32,
}

impl<'a> Deal<'a> {
    fn open(
        owner: &'a Caller,
        probability: i16,
        corporate: Option<&'a str>,
        close_in_days: i64,
    ) -> Self {
        Deal {
            owner,
            probability,
            corporate,
            close_in_days,
            status: 1,
            closed_on: None,
            competitors: json!([]),
            idle_days: 0,
        }
    }

    fn closed(
        owner: &'a Caller,
        won: bool,
        on: &'a str,
        corporate: Option<&'a str>,
        competitors: serde_json::Value,
    ) -> Self {
        Deal {
            owner,
            probability: if won { 100 } else { 0 },
            corporate,
            close_in_days: 0,
            status: if won { 2 } else { 3 },
            closed_on: Some(on),
            competitors,
            idle_days: 0,
        }
    }
}

async fn insert_deal(pool: &PgPool, deal: Deal<'_>) -> Uuid {
    let deal_id = Uuid::now_v7();
    let stage = match deal.status {
        2 => CLOSED_WON,
        3 => CLOSED_LOST,
        _ => QUALIFY,
    };
    let corporate = deal
        .corporate
        .map(|amount| amount.parse::<Decimal>().unwrap());
    let closed_on = deal.closed_on.map(|day| day.parse::<NaiveDate>().unwrap());
    sqlx::query(
        "INSERT INTO opportunities (id, name, account_id, owner_id, owner_team_path, pipeline_id, \
         stage_id, status, effective_probability, currency, amount, corporate_currency, \
         corporate_amount, exchange_rate, rate_date, expected_close_date, competitors, closed_on, \
         closed_at, stage_entered_at, version, created_at, updated_at, last_activity_at) \
         VALUES ($1, 'Deal', $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, 1000), $11, $10, $12, $13, \
         $14, $15, $16, $16::timestamptz, now(), 1, now() - interval '30 days', now(), \
         now() - make_interval(days => $17))",
    )
    .bind(deal_id)
    .bind(Uuid::now_v7())
    .bind(deal.owner.user_id)
    .bind(deal.owner.team_path.as_str())
    .bind(id(DIRECT))
    .bind(id(stage))
    .bind(deal.status)
    .bind(deal.probability)
    .bind(if corporate.is_some() { "CNY" } else { "USD" })
    .bind(corporate)
    .bind(corporate.map(|_| "CNY"))
    .bind(corporate.map(|_| Decimal::ONE))
    .bind(corporate.map(|_| today()))
    .bind(today() + Duration::days(deal.close_in_days))
    .bind(deal.competitors)
    .bind(closed_on)
    .bind(deal.idle_days)
    .execute(pool)
    .await
    .unwrap();
    deal_id
}

/// One roll-up row: (stage, month, entered, exited, advanced, lost, seconds).
async fn stage_month(pool: &PgPool, owner: &Caller, row: (&str, &str, i64, i64, i64, i64, i64)) {
    let (stage, month, entered, exited, advanced, lost, seconds) = row;
    sqlx::query(
        "INSERT INTO funnel_stage_months (pipeline_id, stage_id, owner_id, owner_team_path, month, \
         entered, exited, advanced, lost, seconds_in_stage) VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, $9, $10)",
    )
    .bind(id(DIRECT))
    .bind(id(stage))
    .bind(owner.user_id)
    .bind(owner.team_path.as_str())
    .bind(month)
    .bind(entered)
    .bind(exited)
    .bind(advanced)
    .bind(lost)
    .bind(Decimal::from(seconds))
    .execute(pool)
    .await
    .unwrap();
}

/// One outcome row: (month, won, lost, won amount, won with an amount, cycle seconds).
async fn outcome_month(pool: &PgPool, owner: &Caller, row: (&str, i64, i64, &str, i64, i64)) {
    let (month, won, lost, amount, with_amount, cycle) = row;
    sqlx::query(
        "INSERT INTO funnel_outcome_months (pipeline_id, owner_id, owner_team_path, month, won, \
         lost, won_amount, won_with_amount, cycle_seconds) VALUES ($1, $2, $3, $4::date, $5, $6, $7::numeric, $8, $9)",
    )
    .bind(id(DIRECT))
    .bind(owner.user_id)
    .bind(owner.team_path.as_str())
    .bind(month)
    .bind(won)
    .bind(lost)
    .bind(amount)
    .bind(with_amount)
    .bind(Decimal::from(cycle))
    .execute(pool)
    .await
    .unwrap();
}

const ACME: &str = "01900000-0000-7000-8000-00000000c001";
const GLOBEX: &str = "01900000-0000-7000-8000-00000000c002";

fn competitor(competitor_id: &str, name: &str, status: i32) -> serde_json::Value {
    json!({"competitor_id": competitor_id, "competitor_name": name, "strengths": "", "weaknesses": "", "status": status})
}

impl Harness {
    async fn start() -> Self {
        let app = TestApp::spawn(&[crm_opportunities::module()]).await;
        let client = AnalyticsServiceClient::new(app.channel().await);
        let people = People {
            ravi: user("rep", "/northwind/east/east-1"),
            mei: user("rep", "/northwind/east/east-1"),
            omar: user("rep", "/northwind/west/west-1"),
            erin: user("manager", "/northwind/east"),
            admin: user("admin", "/northwind"),
        };
        let harness = Self {
            app,
            client,
            people,
        };
        harness.seed().await;
        harness
    }

    async fn seed(&self) {
        let pool = self.app.pool("opportunities");
        let People {
            ravi, mei, omar, ..
        } = &self.people;
        let mut connection = pool.acquire().await.unwrap();
        OrgDirectory::record_settings(
            &mut connection,
            &OrgSettings {
                corporate_currency: Some(CurrencyCode::CNY),
                version: 1,
                ..OrgSettings::default()
            },
        )
        .await
        .unwrap();
        // The board's open deals (and an archived one it leaves out).
        insert_deal(pool, Deal::open(ravi, 60, Some("1200000.00"), 12)).await;
        insert_deal(pool, Deal::open(ravi, 25, Some("300000.00"), 45)).await;
        insert_deal(pool, Deal::open(ravi, 75, None, -3)).await;
        insert_deal(
            pool,
            Deal {
                status: 4,
                ..Deal::open(ravi, 90, Some("9000000"), 1)
            },
        )
        .await;
        insert_deal(pool, Deal::open(mei, 50, Some("2000000.00"), 90)).await;
        insert_deal(pool, Deal::open(omar, 10, Some("500000.00"), 200)).await;
        // Closed deals with competitors; the catalogue names Acme anew.
        sqlx::query("INSERT INTO competitors (id, name) VALUES ($1, 'Acme Corp'), ($2, 'Globex')")
            .bind(id(ACME))
            .bind(id(GLOBEX))
            .execute(pool)
            .await
            .unwrap();
        let closed = [
            (
                ravi,
                true,
                "2026-02-10",
                Some("1000000"),
                json!([competitor(ACME, "Acme", 2)]),
            ),
            (
                ravi,
                false,
                "2026-03-05",
                Some("400000"),
                json!([competitor(ACME, "Acme", 3), competitor(GLOBEX, "Globex", 1)]),
            ),
            (
                mei,
                false,
                "2026-01-20",
                Some("250000"),
                json!([competitor(GLOBEX, "Globex", 3)]),
            ),
            (
                mei,
                false,
                "2026-03-28",
                None,
                json!([competitor(ACME, "Acme", 3)]),
            ),
            (
                omar,
                true,
                "2026-02-02",
                Some("700000"),
                json!([competitor(GLOBEX, "Globex", 2)]),
            ),
            (
                ravi,
                false,
                "2025-12-15",
                Some("999"),
                json!([competitor(ACME, "Acme", 3)]),
            ),
        ];
        for (owner, won, on, corporate, competitors) in closed {
            insert_deal(pool, Deal::closed(owner, won, on, corporate, competitors)).await;
        }
        // The roll-up, January to March 2026, and a December row outside that period.
        for row in [
            (QUALIFY, "2026-01-01", 4, 4, 3, 1, 4 * 2 * DAY),
            (DEVELOP, "2026-02-01", 3, 3, 1, 2, 3 * 5 * DAY),
            (PROPOSE, "2026-03-01", 1, 1, 1, 0, 10 * DAY),
            (QUALIFY, "2025-12-01", 9, 9, 9, 0, 9),
        ] {
            stage_month(pool, ravi, row).await;
        }
        stage_month(pool, mei, (QUALIFY, "2026-02-01", 6, 6, 6, 0, 6 * DAY)).await;
        stage_month(pool, mei, (DEVELOP, "2026-03-01", 6, 5, 4, 1, 5 * 3 * DAY)).await;
        stage_month(
            pool,
            omar,
            (QUALIFY, "2026-01-01", 10, 10, 5, 5, 10 * DAY / 2),
        )
        .await;
        stage_month(pool, omar, (DEVELOP, "2026-02-01", 5, 5, 5, 0, 5 * DAY)).await;
        outcome_month(pool, ravi, ("2026-01-01", 0, 1, "0", 0, 0)).await;
        outcome_month(pool, ravi, ("2026-02-01", 0, 2, "0", 0, 0)).await;
        outcome_month(pool, ravi, ("2026-03-01", 1, 0, "1000000", 1, 60 * DAY)).await;
        outcome_month(pool, ravi, ("2025-12-01", 9, 0, "9", 9, 9)).await;
        outcome_month(pool, mei, ("2026-03-01", 4, 1, "6000000", 3, 4 * 30 * DAY)).await;
        outcome_month(pool, omar, ("2026-01-01", 0, 5, "0", 0, 0)).await;
        outcome_month(pool, omar, ("2026-02-01", 5, 0, "2500000", 5, 5 * 20 * DAY)).await;
    }

    async fn board(
        &self,
        caller: &Caller,
        scope: Option<pb::DealScope>,
        limit: u32,
    ) -> Result<pb::GetPriorityBoardResponse, tonic::Status> {
        let request = pb::GetPriorityBoardRequest {
            scope,
            pipeline_id: String::new(),
            limit,
        };
        self.client
            .clone()
            .get_priority_board(authorized(request, &self.app.token(caller)))
            .await
            .map(|response| response.into_inner())
    }

    async fn funnel(
        &self,
        caller: &Caller,
        scope: Option<pb::DealScope>,
    ) -> Result<pb::GetFunnelResponse, tonic::Status> {
        let request = pb::GetFunnelRequest {
            pipeline_id: DIRECT.into(),
            period: Some(first_quarter()),
            scope,
        };
        self.client
            .clone()
            .get_funnel(authorized(request, &self.app.token(caller)))
            .await
            .map(|response| response.into_inner())
    }

    async fn compare(&self, caller: &Caller, team_path: &str) -> pb::CompareRepsResponse {
        let request = pb::CompareRepsRequest {
            pipeline_id: DIRECT.into(),
            period: Some(first_quarter()),
            team_path: team_path.into(),
        };
        self.client
            .clone()
            .compare_reps(authorized(request, &self.app.token(caller)))
            .await
            .unwrap()
            .into_inner()
    }

    async fn competitors(&self, caller: &Caller) -> pb::GetCompetitiveAnalysisResponse {
        let request = pb::GetCompetitiveAnalysisRequest {
            period: Some(first_quarter()),
            scope: None,
            pipeline_id: String::new(),
        };
        self.client
            .clone()
            .get_competitive_analysis(authorized(request, &self.app.token(caller)))
            .await
            .unwrap()
            .into_inner()
    }
}

fn first_quarter() -> pb::MonthRange {
    pb::MonthRange {
        from_month: "2026-01".into(),
        to_month: "2026-03".into(),
    }
}

fn team(path: &str) -> Option<pb::DealScope> {
    Some(pb::DealScope {
        owner_id: String::new(),
        team_path: path.into(),
    })
}

fn owner(caller: &Caller) -> Option<pb::DealScope> {
    Some(pb::DealScope {
        owner_id: caller.user_id.to_string(),
        team_path: String::new(),
    })
}

fn money(value: &Option<crm_proto::crm::common::v1::Money>) -> String {
    value
        .as_ref()
        .map(|money| format!("{} {}", money.currency_code, money.amount))
        .unwrap_or_default()
}

fn points<const N: usize>(points: [&str; N]) -> Vec<String> {
    points.into_iter().map(str::to_owned).collect()
}

/// Each item's owner, score and parts' points.
fn ranking(board: &pb::GetPriorityBoardResponse) -> Vec<(u32, String, String, Vec<String>)> {
    board
        .items
        .iter()
        .map(|item| {
            let deal = item.opportunity.as_ref().unwrap();
            let points = item.parts.iter().map(|part| part.points.clone()).collect();
            (item.rank, deal.owner_id.clone(), item.score.clone(), points)
        })
        .collect()
}

/// (stage, entered, exited, advanced, lost, conversion, average days).
fn stages(stages: &[pb::StageFunnel]) -> Vec<(String, u64, u64, u64, u64, String, String)> {
    stages
        .iter()
        .map(|stage| {
            let name = stage.stage.as_ref().unwrap().name.clone();
            (
                name,
                stage.entered,
                stage.exited,
                stage.advanced,
                stage.lost,
                stage.conversion_rate.clone(),
                stage.average_days_in_stage.clone(),
            )
        })
        .collect()
}

fn row(
    name: &str,
    counts: [u64; 4],
    conversion: &str,
    days: &str,
) -> (String, u64, u64, u64, u64, String, String) {
    (
        name.into(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        conversion.into(),
        days.into(),
    )
}

#[tokio::test]
async fn a_reps_board_ranks_their_open_deals_and_explains_each_score() {
    let harness = Harness::start().await;
    let ravi = &harness.people.ravi;
    let board = harness.board(ravi, None, 0).await.unwrap();
    let me = ravi.user_id.to_string();
    // The seeded weights 35/30/20/15; every deal had an activity today (S = 0).
    // 60%, 1,200,000 (A = 1), 12 days: 21 + 30 + 20 × (1 − 12/90) = 68.33;
    // 75%, no corporate amount, 3 days late: 26.25 + 0 + 20 = 46.25; 25%, 300,000, 45 days:
    // 8.75 + 9 + 10 = 27.75. The archived deal is not on it.
    assert_eq!(
        ranking(&board),
        vec![
            (
                1,
                me.clone(),
                "68.33".into(),
                points(["21.00", "30.00", "17.33", "0.00"])
            ),
            (
                2,
                me.clone(),
                "46.25".into(),
                points(["26.25", "0.00", "20.00", "0.00"])
            ),
            (
                3,
                me,
                "27.75".into(),
                points(["8.75", "9.00", "10.00", "0.00"])
            ),
        ]
    );
    assert_eq!(board.total_open_deals, 3);
    assert_eq!(board.as_of, today().to_string());
    let top = &board.items[0].parts;
    assert_eq!(top[0].value, "0.6000");
    assert_eq!(top[2].value, "0.8667");
    let texts: Vec<(&str, &str)> = top
        .iter()
        .map(|part| {
            let text = part.explanation.as_ref().unwrap();
            (text.code.as_str(), text.text.as_str())
        })
        .collect();
    assert_eq!(
        texts,
        vec![
            ("opportunities.board.probability", "probability 60%"),
            (
                "opportunities.board.amount",
                "CNY 1,200,000.00 of a 1,000,000.00 scale"
            ),
            (
                "opportunities.board.closeness",
                "closes in 12 days of a 90-day horizon"
            ),
            (
                "opportunities.board.staleness_recent",
                "last activity today (stale after 14)"
            ),
        ]
    );
    let late = board.items[1].parts[2].explanation.as_ref().unwrap();
    assert_eq!(late.text, "3 days past its close date");
    let settings = board.settings.unwrap();
    assert_eq!(
        (
            settings.probability_weight,
            settings.amount_weight,
            settings.closeness_weight,
            settings.staleness_weight
        ),
        (35, 30, 20, 15)
    );
    assert!(board.formula.starts_with(
        "score = 100 × (35 × probability + 30 × amount + 20 × closeness + 15 × staleness) / 100"
    ));
    // No deal has a plan: no slippage.
    assert!(
        board
            .items
            .iter()
            .all(|item| (item.late_milestones, item.max_days_late) == (0, 0))
    );
    // The deal itself comes whole, with its corporate amount.
    let deal = board.items[0].opportunity.as_ref().unwrap();
    assert_eq!(
        money(&deal.corporate_amount.as_ref().unwrap().amount),
        "CNY 1200000"
    );
    assert_eq!(deal.pipeline_name, "Direct");
}

#[tokio::test]
async fn a_stale_deal_rises_on_the_board_and_a_plans_late_milestones_show_beside_it() {
    let harness = Harness::start().await;
    let pool = harness.app.pool("opportunities");
    let sam = user("rep", "/northwind/east/east-1");
    // Twins of 25%, 300,000, 45 days (8.75 + 9 + 10 = 27.75); one has had no activity for 30
    // days in a pipeline whose deals go stale after 14: S = min(1, 30 / 28) = 1, + 15 = 42.75.
    let fresh = insert_deal(pool, Deal::open(&sam, 25, Some("300000.00"), 45)).await;
    let stale = Deal {
        idle_days: 30,
        ..Deal::open(&sam, 25, Some("300000.00"), 45)
    };
    let stale = insert_deal(pool, stale).await;
    // The fresh deal's plan: milestones due 5 and 2 days ago still open, one done late, one
    // due tomorrow.
    let plan = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO deal_plans (id, opportunity_id, objective, created_by, created_at, \
         updated_by, updated_at) VALUES ($1, $2, 'Land the rollout', $3, now(), $3, now())",
    )
    .bind(plan)
    .bind(fresh)
    .bind(sam.user_id)
    .execute(pool)
    .await
    .unwrap();
    for (position, due_in_days, done) in
        [(1, -5, false), (2, -2, false), (3, -9, true), (4, 1, false)]
    {
        sqlx::query(
            "INSERT INTO plan_milestones (id, plan_id, opportunity_id, name, owner_id, due_on, \
             position, completed_on) VALUES ($1, $2, $3, 'Milestone', $4, $5, $6, $7)",
        )
        .bind(Uuid::now_v7())
        .bind(plan)
        .bind(fresh)
        .bind(sam.user_id)
        .bind(today() + Duration::days(due_in_days))
        .bind(position)
        .bind(done.then(today))
        .execute(pool)
        .await
        .unwrap();
    }

    let board = harness.board(&sam, None, 0).await.unwrap();
    let ids = board_ids(&board);
    assert_eq!(ids, [stale.to_string(), fresh.to_string()]);
    let sam_id = sam.user_id.to_string();
    assert_eq!(
        ranking(&board),
        vec![
            (
                1,
                sam_id.clone(),
                "42.75".into(),
                points(["8.75", "9.00", "10.00", "15.00"])
            ),
            (
                2,
                sam_id.clone(),
                "27.75".into(),
                points(["8.75", "9.00", "10.00", "0.00"])
            ),
        ]
    );
    let staleness = board.items[0].parts[3].explanation.as_ref().unwrap();
    assert_eq!(
        (staleness.code.as_str(), staleness.text.as_str()),
        (
            "opportunities.board.staleness",
            "no activity for 30 days (stale after 14)"
        )
    );
    let slippage: Vec<(u32, u32)> = board
        .items
        .iter()
        .map(|item| (item.late_milestones, item.max_days_late))
        .collect();
    assert_eq!(slippage, [(0, 0), (2, 5)]);

    // Where deals never go stale, the twins tie again and the older id (the fresh deal) leads.
    sqlx::query("UPDATE pipelines SET stale_after_days = 0 WHERE id = $1")
        .bind(id(DIRECT))
        .execute(pool)
        .await
        .unwrap();
    let board = harness.board(&sam, None, 0).await.unwrap();
    assert_eq!(board_ids(&board), [fresh.to_string(), stale.to_string()]);
    let never = board.items[1].parts[3].explanation.as_ref().unwrap();
    assert_eq!(never.text, "its pipeline's deals never go stale");
}

/// The ids on a board, in its order.
fn board_ids(board: &pb::GetPriorityBoardResponse) -> Vec<String> {
    board
        .items
        .iter()
        .map(|item| item.opportunity.as_ref().unwrap().id.clone())
        .collect()
}

/// The database hands the service only the deals that can reach the top `limit` (scored in
/// `float8`, within a margin of the cut); the service ranks those exactly. So any board must be
/// the start of the longest one, however many deals tie at its cut, under any settings.
#[tokio::test]
async fn a_short_board_is_the_top_of_the_long_one_whatever_ties_at_its_cut() {
    let harness = Harness::start().await;
    let pool = harness.app.pool("opportunities");
    let heavy = user("rep", "/northwind/east/east-1");
    // 180 deals over 3 probabilities × 4 amounts (two a cent apart) × 6 close dates, so every
    // score is shared by several deals and only the close date and the id tell them apart;
    // and over 5 idle spells (fresh, a day short of stale, stale, 20 of 28 days, past full).
    let amounts = [None, Some("300000.00"), Some("300000.01"), Some("1000000")];
    let closes = [-5, 0, 30, 45, 89, 200];
    let idle = [0, 13, 14, 20, 40];
    for index in 0..180_usize {
        let probability = [10, 40, 60][index % 3];
        let deal = Deal {
            idle_days: idle[index % 5],
            ..Deal::open(
                &heavy,
                probability,
                amounts[index / 3 % 4],
                closes[index / 12 % 6],
            )
        };
        insert_deal(pool, deal).await;
    }
    // And 100 deals alike in every way but their ids: more ties at a cut than the database
    // returns beyond the board's size, so the service must ask for all of them.
    for _ in 0..100 {
        insert_deal(pool, Deal::open(&heavy, 40, Some("300000.00"), 30)).await;
    }
    let check = |settings: &'static str| {
        let harness = &harness;
        let heavy = &heavy;
        async move {
            let longest = harness.board(heavy, None, 500).await.unwrap();
            assert_eq!(longest.total_open_deals, 280, "{settings}");
            assert_eq!(longest.items.len(), 280, "{settings}");
            let all = board_ids(&longest);
            for limit in [1, 2, 3, 5, 13, 17, 50, 100, 150, 200, 279] {
                let board = harness.board(heavy, None, limit).await.unwrap();
                assert_eq!(board.total_open_deals, 280, "{settings}, limit {limit}");
                assert_eq!(
                    board_ids(&board),
                    all[..limit as usize],
                    "{settings}, limit {limit}"
                );
            }
        }
    };
    check("seeded settings").await;
    let admin = &harness.people.admin;
    let mut pipelines =
        pb::pipeline_service_client::PipelineServiceClient::new(harness.app.channel().await);
    for (weights, scale, horizon) in [
        ((0, 100, 0, 0), "300000.005", 30),
        ((1, 0, 99, 0), "1", 3650),
        ((0, 0, 0, 100), "1", 90),
        ((7, 3, 0, 41), "300000.005", 45),
    ] {
        let current = pipelines
            .get_priority_board_settings(authorized(
                pb::GetPriorityBoardSettingsRequest {},
                &harness.app.token(admin),
            ))
            .await
            .unwrap()
            .into_inner()
            .settings
            .unwrap();
        pipelines
            .update_priority_board_settings(authorized(
                pb::UpdatePriorityBoardSettingsRequest {
                    probability_weight: Some(weights.0),
                    amount_weight: Some(weights.1),
                    closeness_weight: Some(weights.2),
                    staleness_weight: Some(weights.3),
                    amount_scale: Some(scale.into()),
                    close_horizon_days: Some(horizon),
                    expected_version: current.version,
                },
                &harness.app.token(admin),
            ))
            .await
            .unwrap();
        check(match weights {
            (0, 100, 0, 0) => "amount only",
            (1, 0, 99, 0) => "closeness first",
            (0, 0, 0, 100) => "staleness only",
            _ => "staleness first",
        })
        .await;
    }
}

#[tokio::test]
async fn a_managers_team_board_ranks_the_subtrees_deals_and_a_rep_cannot_see_another_team() {
    let harness = Harness::start().await;
    let People {
        ravi,
        mei,
        erin,
        omar,
        ..
    } = &harness.people;
    let board = harness
        .board(erin, team("/northwind/east/"), 0)
        .await
        .unwrap();
    // Mei's 50%, 2,000,000, 90 days: 17.5 + 30 + 0 = 47.5, above Ravi's late 46.25. Omar
    // (west) is not in the subtree.
    let owners: Vec<(String, String)> = ranking(&board)
        .into_iter()
        .map(|(_, owner, score, _)| (owner, score))
        .collect();
    let (r, m) = (ravi.user_id.to_string(), mei.user_id.to_string());
    assert_eq!(
        owners,
        vec![
            (r.clone(), "68.33".into()),
            (m, "47.50".into()),
            (r.clone(), "46.25".into()),
            (r, "27.75".into())
        ]
    );
    assert_eq!(board.total_open_deals, 4);
    let top_two = harness
        .board(erin, team("/northwind/east/"), 2)
        .await
        .unwrap();
    assert_eq!((top_two.items.len(), top_two.total_open_deals), (2, 4));
    // A manager's own board (no scope) is their own deals: none.
    assert!(harness.board(erin, None, 0).await.unwrap().items.is_empty());

    for (caller, scope) in [
        (ravi, team("/northwind/west/")),
        (ravi, team("/northwind/east/east-1/")),
        (ravi, owner(mei)),
        (erin, team("/northwind/")),
        (erin, owner(omar)),
    ] {
        let refused = harness.board(caller, scope.clone(), 0).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{scope:?}");
    }
    // A manager may ask for a rep of the subtree, and everyone for themselves.
    assert_eq!(
        harness
            .board(erin, owner(mei), 0)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        harness
            .board(ravi, owner(ravi), 0)
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    let too_many = harness.board(ravi, None, 501).await.unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn the_company_funnel_adds_up_every_rep_over_the_period() {
    let harness = Harness::start().await;
    let funnel = harness.funnel(&harness.people.admin, None).await.unwrap();
    // Qualify: 4 + 6 + 10 exits, 3 + 6 + 5 forward: 14 / 20 = 0.7; (8 + 6 + 5) days / 20 = 0.95.
    // Develop: 3 + 5 + 5 exits, 1 + 4 + 5 forward: 10 / 13 = 0.7692; 35 days / 13 = 2.69.
    // December's rows are outside the period.
    assert_eq!(
        stages(&funnel.stages),
        vec![
            row("Qualify", [20, 20, 14, 6], "0.7000", "0.95"),
            row("Develop", [14, 13, 10, 3], "0.7692", "2.69"),
            row("Propose", [1, 1, 1, 0], "1.0000", "10.00"),
            row("Negotiate", [0, 0, 0, 0], "", ""),
        ]
    );
    let figures = funnel.figures.unwrap();
    // 1 + 4 + 5 won, 1 + 2 + 1 + 5 lost: 10 / 19 = 0.5263; 9,500,000 over 9 priced wins =
    // 1,055,555.56; (60 + 120 + 100) days / 10 = 28; 5 open deals worth 1,200,000 + 300,000 +
    // 2,000,000 + 500,000 (one has no corporate amount); velocity 5 × 1,055,555.5… × 10/19 / 28
    // = 99,206.35 a day.
    assert_eq!((figures.won, figures.lost, figures.open_deals), (10, 9, 5));
    assert_eq!(figures.win_rate, "0.5263");
    assert_eq!(money(&figures.average_deal_size), "CNY 1055555.56");
    assert_eq!(figures.average_sales_cycle_days, "28.00");
    assert_eq!(money(&figures.open_amount), "CNY 4000000");
    assert_eq!(money(&figures.velocity_per_day), "CNY 99206.35");
    assert_eq!(money(&figures.won_amount), "CNY 9500000");
    assert_eq!(funnel.corporate_currency, "CNY");
}

#[tokio::test]
async fn a_reps_funnel_counts_only_their_own_rows() {
    let harness = Harness::start().await;
    let People { ravi, admin, .. } = &harness.people;
    // Asking for everything, a rep sees only their own: the same as an admin asking for them.
    let own = harness.funnel(ravi, None).await.unwrap();
    let asked = harness.funnel(admin, owner(ravi)).await.unwrap();
    assert_eq!(own, asked);
    assert_eq!(
        stages(&own.stages),
        vec![
            row("Qualify", [4, 4, 3, 1], "0.7500", "2.00"),
            row("Develop", [3, 3, 1, 2], "0.3333", "5.00"),
            row("Propose", [1, 1, 1, 0], "1.0000", "10.00"),
            row("Negotiate", [0, 0, 0, 0], "", ""),
        ]
    );
    let figures = own.figures.unwrap();
    // 1 won of 4 closed; 1,000,000 in 60 days; 3 open deals: 3 × 1,000,000 × 0.25 / 60 = 12,500.
    assert_eq!((figures.won, figures.lost, figures.open_deals), (1, 3, 3));
    assert_eq!(figures.win_rate, "0.2500");
    assert_eq!(money(&figures.average_deal_size), "CNY 1000000");
    assert_eq!(figures.average_sales_cycle_days, "60.00");
    assert_eq!(money(&figures.open_amount), "CNY 1500000");
    assert_eq!(money(&figures.velocity_per_day), "CNY 12500");
    let refused = harness
        .funnel(ravi, team("/northwind/west/"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn compare_reps_finds_each_reps_weakest_stage_against_the_average() {
    let harness = Harness::start().await;
    let People {
        ravi,
        mei,
        omar,
        erin,
        admin,
    } = &harness.people;
    let comparison = harness.compare(erin, "").await;
    // Erin sees east: Ravi and Mei. Develop: 3 + 5 exits, 1 + 4 forward: 5 / 8 = 0.625.
    assert_eq!(
        stages(&comparison.average_stages)[..2],
        [
            row("Qualify", [10, 10, 9, 1], "0.9000", "1.40"),
            row("Develop", [9, 8, 5, 3], "0.6250", "3.75")
        ]
    );
    assert_eq!(comparison.average.unwrap().won, 5);
    let rep = |caller: &Caller| {
        comparison
            .reps
            .iter()
            .find(|rep| rep.owner_id == caller.user_id.to_string())
            .unwrap()
    };
    assert_eq!(comparison.reps.len(), 2);
    // Ravi lost 2 at Develop (1 at Qualify): 1/3 = 0.3333 against 0.6250 → −0.2917.
    assert_eq!(rep(ravi).weakest_stage.as_ref().unwrap().name, "Develop");
    assert_eq!(rep(ravi).weakest_stage_gap, "-0.2917");
    // Mei lost 1, at Develop: 4/5 = 0.8000 against 0.6250 → 0.1750.
    assert_eq!(rep(mei).weakest_stage.as_ref().unwrap().name, "Develop");
    assert_eq!(rep(mei).weakest_stage_gap, "0.1750");
    assert_eq!(rep(mei).figures.as_ref().unwrap().win_rate, "0.8000");
    // An admin on the west team: Omar alone is the average; he lost 5 at Qualify, 0.5 − 0.5.
    let west = harness.compare(admin, "/northwind/west/").await;
    assert_eq!(west.reps.len(), 1);
    assert_eq!(west.reps[0].owner_id, omar.user_id.to_string());
    assert_eq!(west.reps[0].weakest_stage.as_ref().unwrap().name, "Qualify");
    assert_eq!(west.reps[0].weakest_stage_gap, "0.0000");
}

#[tokio::test]
async fn the_competitive_analysis_counts_closed_deals_per_competitor() {
    let harness = Harness::start().await;
    let People { ravi, admin, .. } = &harness.people;
    let everyone = harness.competitors(admin).await;
    let shown = |analysis: &pb::GetCompetitiveAnalysisResponse| -> Vec<(String, u64, u64, u64, String, String)> {
        analysis
            .competitors
            .iter()
            .map(|result| (result.competitor_name.clone(), result.deals_won, result.deals_lost, result.deals_lost_to, money(&result.lost_revenue), result.win_rate.clone()))
            .collect()
    };
    // Acme: won against once, on two lost deals and lost to on both (one with no corporate
    // amount): 400,000 lost, 1 / 3. Globex: won against by Omar, on two lost deals, lost to on
    // one (250,000). December's loss is outside the period. The catalogue's name wins.
    assert_eq!(
        shown(&everyone),
        vec![
            (
                "Acme Corp".into(),
                1,
                2,
                2,
                "CNY 400000".into(),
                "0.3333".into()
            ),
            (
                "Globex".into(),
                1,
                2,
                1,
                "CNY 250000".into(),
                "0.3333".into()
            ),
        ]
    );
    assert_eq!(everyone.competitors[0].competitor_id, ACME);
    // Ravi sees his own deals only.
    assert_eq!(
        shown(&harness.competitors(ravi).await),
        vec![
            (
                "Acme Corp".into(),
                1,
                1,
                1,
                "CNY 400000".into(),
                "0.5000".into()
            ),
            ("Globex".into(), 0, 1, 0, "CNY 0".into(), "0.0000".into()),
        ]
    );
}

#[tokio::test]
async fn a_bad_period_names_its_field() {
    let harness = Harness::start().await;
    let request = pb::GetFunnelRequest {
        pipeline_id: DIRECT.into(),
        period: Some(pb::MonthRange {
            from_month: "2026-13".into(),
            to_month: "2025-01".into(),
        }),
        scope: None,
    };
    let refused = harness
        .client
        .clone()
        .get_funnel(authorized(
            request,
            &harness.app.token(&harness.people.admin),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let fields: Vec<String> = refused
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|violation| violation.field.clone())
        .collect();
    // 2025-01 is not before a month that is not one: only the form is named.
    assert_eq!(fields, ["period.from_month"]);
    let unknown = pb::GetFunnelRequest {
        pipeline_id: Uuid::now_v7().to_string(),
        period: Some(first_quarter()),
        scope: None,
    };
    let missing = harness
        .client
        .clone()
        .get_funnel(authorized(
            unknown,
            &harness.app.token(&harness.people.admin),
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}
