//! The sales analysis (F8) over real PostgreSQL and NATS, from deal and account events the test
//! publishes for the opportunities and accounts services, against hand-computed figures.
//!
//! The fiscal year starts in April and is named by the year it ends in: FY2027-Q3 is October
//! to December 2026, the quarter before it July to September 2026, a year earlier October to
//! December 2025. CNY throughout.
//!
//! | deal | account  (industry)      | owner (team) | won        | amount | lines                      |
//! |------|--------------------------|--------------|------------|--------|----------------------------|
//! | a1   | Contoso (manufacturing)  | Ravi (east)  | 2026-10-10 | 600000 | ROBOT 400000, SERVICE 200000 |
//! | a2   | Fabrikam (retail)        | Mei (west)   | 2026-11-20 | 300000 | ROBOT 100000, ARM 200000   |
//! | a3   | Tailspin (manufacturing) | Ravi         | 2026-12-05 | 150000 | none                       |
//! | a4   | Contoso                  | Mei          | 2026-08-15 | 400000 | ROBOT 400000               |
//! | a5   | Fabrikam                 | Ravi         | 2025-11-01 | 250000 | ARM 250000                 |
//! | o1   | Contoso, open at 40 %    | Ravi         | 2026-12-20 | 200000 | none                       |

mod review_support;

use crm_platform::{
    auth::Caller,
    fiscal::{FiscalCalendar, FiscalYearNaming},
};
use crm_proto::crm::{
    accounts::v1::{Account, AccountCreated, AccountUpdated},
    common::v1::Money,
    forecasting::v1::{
        self as pb, AnalysisDimension, AnalysisMeasure, ForecastScope,
        sales_analysis_service_client::SalesAnalysisServiceClient,
    },
    opportunities::v1::OpportunityStatus,
};
use review_support::{Deal, Harness};
use rust_decimal::Decimal;
use tonic::Code;
use uuid::Uuid;

struct Org {
    harness: Harness,
    admin: Caller,
    ravi: Caller,
    contoso: Uuid,
}

fn account(id: Uuid, name: &str, industry: &str, version: u64) -> Option<Account> {
    Some(Account {
        id: id.to_string(),
        name: name.into(),
        industry: industry.into(),
        version,
        ..Default::default()
    })
}

async fn organisation() -> Org {
    let calendar = FiscalCalendar::new(4, FiscalYearNaming::EndingYear).unwrap();
    let mut harness = Harness::start(calendar, &[]).await;
    let admin = harness.person("Ada", "admin", "/northwind/").await;
    let ravi = harness.person("Ravi", "rep", "/northwind/east/").await;
    let mei = harness.person("Mei", "rep", "/northwind/west/").await;
    let (contoso, fabrikam, tailspin) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    // Contoso renamed at version 2; its creation (version 1) redelivered after changes nothing.
    let created = AccountCreated {
        account: account(contoso, "Contoso", "manufacturing", 1),
    };
    harness.publish(&created).await;
    harness
        .publish(&AccountUpdated {
            account: account(contoso, "Contoso Ltd", "manufacturing", 2),
            ..Default::default()
        })
        .await;
    harness.settled().await;
    harness.publish(&created).await;
    for (id, name, industry) in [
        (fabrikam, "Fabrikam", "retail"),
        (tailspin, "Tailspin", "manufacturing"),
    ] {
        harness
            .publish(&AccountCreated {
                account: account(id, name, industry, 1),
            })
            .await;
    }
    let won = |owner, account_id, amount, day, lines| Deal {
        owner,
        account_id,
        amount,
        status: OpportunityStatus::Won,
        day,
        probability: 100,
        lines,
    };
    for deal in [
        won(
            &ravi,
            contoso,
            "600000",
            "2026-10-10",
            &[("ROBOT", "400000"), ("SERVICE", "200000")],
        ),
        won(
            &mei,
            fabrikam,
            "300000",
            "2026-11-20",
            &[("ROBOT", "100000"), ("ARM", "200000")],
        ),
        won(&ravi, tailspin, "150000", "2026-12-05", &[]),
        won(
            &mei,
            contoso,
            "400000",
            "2026-08-15",
            &[("ROBOT", "400000")],
        ),
        won(
            &ravi,
            fabrikam,
            "250000",
            "2025-11-01",
            &[("ARM", "250000")],
        ),
        Deal {
            status: OpportunityStatus::Open,
            probability: 40,
            ..won(&ravi, contoso, "200000", "2026-12-20", &[])
        },
    ] {
        harness.deal(&deal).await;
    }
    harness.settled().await;
    Org {
        harness,
        admin,
        ravi,
        contoso,
    }
}

impl Org {
    async fn analyze(
        &self,
        caller: &Caller,
        scope: Option<ForecastScope>,
        dimension: AnalysisDimension,
        measure: AnalysisMeasure,
    ) -> Result<pb::AnalyzeSalesResponse, tonic::Status> {
        let request = self.harness.request(
            caller,
            pb::AnalyzeSalesRequest {
                scope,
                period: "FY2027-Q3".into(),
                dimension: dimension as i32,
                measure: measure as i32,
            },
        );
        let mut client = SalesAnalysisServiceClient::new(self.harness.app.channel().await);
        Ok(client.analyze_sales(request).await?.into_inner())
    }

    async fn company(
        &self,
        dimension: AnalysisDimension,
        measure: AnalysisMeasure,
    ) -> pb::AnalyzeSalesResponse {
        let company = Some(ForecastScope {
            company: true,
            ..Default::default()
        });
        self.analyze(&self.admin, company, dimension, measure)
            .await
            .unwrap()
    }
}

fn amount(money: &Option<Money>) -> String {
    money
        .as_ref()
        .map(|money| money.amount.clone())
        .unwrap_or_default()
}

/// (rank, key, label, amount, share) of each group.
fn groups(analysis: &pb::AnalyzeSalesResponse) -> Vec<(u32, String, String, String, String)> {
    analysis
        .groups
        .iter()
        .map(|group| {
            (
                group.rank,
                group.key.clone(),
                group.label.clone(),
                amount(&group.amount),
                group.share_percent.clone(),
            )
        })
        .collect()
}

/// (previous, change, percent, year ago, change, percent) of each group.
fn changes(analysis: &pb::AnalyzeSalesResponse) -> Vec<[String; 6]> {
    analysis
        .groups
        .iter()
        .map(|group| {
            [
                amount(&group.previous_amount),
                amount(&group.change_from_previous),
                group.change_from_previous_percent.clone(),
                amount(&group.year_ago_amount),
                amount(&group.change_from_year_ago),
                group.change_from_year_ago_percent.clone(),
            ]
        })
        .collect()
}

fn row(
    rank: u32,
    key: &str,
    label: &str,
    amount: &str,
    share: &str,
) -> (u32, String, String, String, String) {
    (rank, key.into(), label.into(), amount.into(), share.into())
}

fn change(values: [&str; 6]) -> [String; 6] {
    values.map(str::to_owned)
}

fn shares_add_up_to_100(analysis: &pb::AnalyzeSalesResponse) {
    let sum: Decimal = analysis
        .groups
        .iter()
        .map(|group| group.share_percent.parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(sum, Decimal::ONE_HUNDRED);
}

#[tokio::test]
async fn bookings_by_product_share_the_deals_corporate_amounts_and_add_up_to_100() {
    let org = organisation().await;
    let analysis = org
        .company(AnalysisDimension::Product, AnalysisMeasure::Bookings)
        .await;
    assert_eq!(
        analysis
            .period
            .as_ref()
            .map(|period| (period.start_date.as_str(), period.end_date.as_str())),
        Some(("2026-10-01", "2026-12-31"))
    );
    assert_eq!(
        analysis.previous_period.as_ref().unwrap().label,
        "FY2027-Q2"
    );
    assert_eq!(
        analysis.year_ago_period.as_ref().unwrap().label,
        "FY2026-Q3"
    );
    // 1050000 booked: ROBOT 400000 + 100000, ARM 200000, SERVICE 200000, no lines 150000.
    // 47.619…, 19.047…, 19.047…, 14.285…: rounded each they would add up to 100.01; the
    // hundredths go to the largest remainders, and the deal without lines gets 14.28.
    assert_eq!(
        groups(&analysis),
        [
            row(1, "ROBOT", "ROBOT product", "500000", "47.62"),
            row(2, "ARM", "ARM product", "200000", "19.05"),
            row(2, "SERVICE", "SERVICE product", "200000", "19.05"),
            row(4, "", "", "150000", "14.28"),
        ]
    );
    shares_add_up_to_100(&analysis);
    assert_eq!(
        changes(&analysis),
        [
            change(["400000", "100000", "25.00", "0", "500000", ""]),
            change(["0", "200000", "", "250000", "-50000", "-20.00"]),
            change(["0", "200000", "", "0", "200000", ""]),
            change(["0", "150000", "", "0", "150000", ""]),
        ]
    );
    // 1050000 against 400000 (+162.50 %) and 250000 (+320.00 %).
    assert_eq!(
        (
            amount(&analysis.total),
            amount(&analysis.change_from_previous),
            analysis.change_from_previous_percent.as_str(),
            amount(&analysis.change_from_year_ago),
            analysis.change_from_year_ago_percent.as_str(),
        ),
        (
            "1050000".into(),
            "650000".into(),
            "162.50",
            "800000".into(),
            "320.00"
        )
    );
}

#[tokio::test]
async fn bookings_by_customer_and_industry_are_named_from_the_accounts_replica() {
    let org = organisation().await;
    let customers = org
        .company(AnalysisDimension::Customer, AnalysisMeasure::Bookings)
        .await;
    let rows = groups(&customers);
    // 57.142…, 28.571…, 14.285…: the missing hundredth to Tailspin's .57 remainder.
    let labels: Vec<_> = rows
        .iter()
        .map(|row| (row.0, row.2.as_str(), row.3.as_str(), row.4.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            (1, "Contoso Ltd", "600000", "57.14"),
            (2, "Fabrikam", "300000", "28.57"),
            (3, "Tailspin", "150000", "14.29"),
        ]
    );
    assert_eq!(rows[0].1, org.contoso.to_string());
    assert_eq!(
        changes(&customers)[..2],
        [
            change(["400000", "200000", "50.00", "0", "600000", ""]),
            change(["0", "300000", "", "250000", "50000", "20.00"]),
        ]
    );
    let industries = org
        .company(AnalysisDimension::Industry, AnalysisMeasure::Bookings)
        .await;
    assert_eq!(
        groups(&industries),
        [
            row(1, "manufacturing", "manufacturing", "750000", "71.43"),
            row(2, "retail", "retail", "300000", "28.57"),
        ]
    );

    // A rebuild replays the accounts stream too: the same names and industries.
    let context = org.harness.app.services.context("forecasting").unwrap();
    crm_forecasting::rebuild_read_model(&context.pool, &context.jetstream, &context.naming)
        .await
        .unwrap();
    let rebuilt = org
        .company(AnalysisDimension::Customer, AnalysisMeasure::Bookings)
        .await;
    assert_eq!(groups(&rebuilt), groups(&customers));
    let rebuilt = org
        .company(AnalysisDimension::Industry, AnalysisMeasure::Bookings)
        .await;
    assert_eq!(groups(&rebuilt), groups(&industries));
}

#[tokio::test]
async fn bookings_by_month_team_and_rep_and_the_pipeline_weighted() {
    let org = organisation().await;
    let months = org
        .company(AnalysisDimension::Month, AnalysisMeasure::Bookings)
        .await;
    let rows: Vec<_> = groups(&months)
        .into_iter()
        .map(|row| (row.1, row.3))
        .collect();
    let month = |key: &str, amount: &str| (key.to_owned(), amount.to_owned());
    assert_eq!(
        rows,
        [
            month("2026-10", "600000"),
            month("2026-11", "300000"),
            month("2026-12", "150000")
        ]
    );
    // November against August (the quarter before's second month) and November 2025.
    assert_eq!(
        changes(&months)[1],
        change(["400000", "-100000", "-25.00", "250000", "50000", "20.00"])
    );

    let teams = org
        .company(AnalysisDimension::Team, AnalysisMeasure::Bookings)
        .await;
    assert_eq!(
        groups(&teams),
        [
            row(1, "/northwind/east/", "/northwind/east/", "750000", "71.43"),
            row(2, "/northwind/west/", "/northwind/west/", "300000", "28.57"),
        ]
    );
    let reps = org
        .company(AnalysisDimension::Rep, AnalysisMeasure::Bookings)
        .await;
    let names: Vec<_> = groups(&reps)
        .into_iter()
        .map(|row| (row.2, row.3))
        .collect();
    assert_eq!(
        names,
        [
            ("Ravi".to_owned(), "750000".to_owned()),
            ("Mei".to_owned(), "300000".to_owned())
        ]
    );

    // The open deal: 200000 expected in December, 40 % of it weighted.
    let pipeline = org
        .company(AnalysisDimension::Customer, AnalysisMeasure::Pipeline)
        .await;
    assert_eq!(
        groups(&pipeline),
        [row(
            1,
            &org.contoso.to_string(),
            "Contoso Ltd",
            "200000",
            "100.00"
        )]
    );
    let weighted = org
        .company(AnalysisDimension::Rep, AnalysisMeasure::WeightedPipeline)
        .await;
    assert_eq!(amount(&weighted.total), "80000");
}

#[tokio::test]
async fn a_rep_analyses_their_own_deals_only() {
    let org = organisation().await;
    let own = org
        .analyze(
            &org.ravi,
            None,
            AnalysisDimension::Customer,
            AnalysisMeasure::Bookings,
        )
        .await
        .unwrap();
    let labels: Vec<_> = groups(&own)
        .into_iter()
        .map(|row| (row.2, row.3, row.4))
        .collect();
    assert_eq!(
        labels,
        [
            (
                "Contoso Ltd".to_owned(),
                "600000".to_owned(),
                "80.00".to_owned()
            ),
            (
                "Tailspin".to_owned(),
                "150000".to_owned(),
                "20.00".to_owned()
            ),
            // Ravi's year-ago deal (a5): a customer that fell away stays, with nothing now.
            ("Fabrikam".to_owned(), "0".to_owned(), "0.00".to_owned()),
        ]
    );
    let company = Some(ForecastScope {
        company: true,
        ..Default::default()
    });
    let refused = org
        .analyze(
            &org.ravi,
            company,
            AnalysisDimension::Customer,
            AnalysisMeasure::Bookings,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let unspecified = org
        .analyze(
            &org.ravi,
            None,
            AnalysisDimension::Unspecified,
            AnalysisMeasure::Bookings,
        )
        .await
        .unwrap_err();
    assert_eq!(unspecified.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_deals_lines_are_replaced_only_by_a_newer_version() {
    let mut harness = Harness::start(FiscalCalendar::default(), &[]).await;
    let ravi = harness.person("Ravi", "rep", "/northwind/east/").await;
    let deal = |amount, lines| Deal {
        owner: &ravi,
        account_id: Uuid::nil(),
        amount,
        status: OpportunityStatus::Open,
        day: "2026-12-20",
        probability: 50,
        lines,
    };
    let id = Uuid::now_v7();
    harness
        .deal_at(
            id,
            2,
            &deal("300.00", &[("ROBOT", "100.00"), ("ARM", "200.00")]),
        )
        .await;
    // Version 1, delivered late, does not bring its lines back.
    harness
        .deal_at(id, 1, &deal("50.00", &[("OLD", "50.00")]))
        .await;
    harness.settled().await;
    let pool = harness.app.pool("forecasting").clone();
    let lines = || async {
        sqlx::query_as::<_, (String, Option<Decimal>)>(
            "SELECT product_code, corporate_amount FROM deal_lines WHERE deal_id = $1 ORDER BY line",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(code, amount)| (code, amount.map(|amount| amount.to_string())))
        .collect::<Vec<_>>()
    };
    let line = |code: &str, amount: &str| (code.to_owned(), Some(amount.to_owned()));
    assert_eq!(
        lines().await,
        [line("ROBOT", "100.00"), line("ARM", "200.00")]
    );
    harness.deal_at(id, 3, &deal("300.00", &[])).await;
    harness.settled().await;
    assert!(lines().await.is_empty());
}
