//! The statistical forecast (F6) over real PostgreSQL and NATS, the test standing in for the
//! opportunities service by publishing its deal events: a hand-computed bookings history in
//! the organisation's fiscal calendar, with the regression's forecast and back-test to the
//! cent, by month and by fiscal quarter, for a rep and for the company.

mod statistics_support;

use crm_platform::auth::Caller;
use crm_proto::crm::forecasting::v1::{self as pb, StatisticalMethod, StatisticalPeriodKind};
use crm_test_support::{TestApp, authorized, user};
use tonic::Code;

use statistics_support::*;

/// Ravi's bookings of July to November 2026: 300 000, 500 000, 400 000, 800 000 and
/// 1 000 000 CNY; besides them a deal won in December (the current month on the 15th: not
/// history), one lost, one without a corporate amount, and Wes's 50 000 in September (West).
async fn book_history(app: &TestApp, ravi: &Caller, wes: &Caller) {
    let won = [
        ("300000", "2026-07-10"),
        ("500000", "2026-08-03"),
        // Two deals in September, adding up to 400 000.
        ("150000", "2026-09-01"),
        ("250000", "2026-09-30"),
        ("800000", "2026-10-20"),
        ("1000000", "2026-11-11"),
        ("999999", "2026-12-01"),
    ];
    for (deal_amount, closed_on) in won {
        let deal = Deal::of(ravi, deal_amount);
        publish(app, deal.at(2, WON, 100, closed_on)).await;
    }
    let lost = Deal::of(ravi, "700000");
    publish(app, lost.at(2, LOST, 0, "2026-10-05")).await;
    let unconverted = Deal {
        converted: false,
        ..Deal::of(ravi, "12345")
    };
    publish(app, unconverted.at(2, WON, 100, "2026-08-08")).await;
    publish(app, Deal::of(wes, "50000").at(2, WON, 100, "2026-09-15")).await;
    handled(app, 10).await;
}

fn forecast_request(scope: Option<pb::ForecastScope>) -> pb::GetStatisticalForecastRequest {
    pb::GetStatisticalForecastRequest {
        scope,
        as_of: "2026-12-15".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_bookings_history_is_forecast_and_backtested_by_each_method() {
    let app = start().await;
    let ravi = user("rep", EAST_1);
    let wes = user("rep", WEST);
    book_history(&app, &ravi, &wes).await;
    let mut statistics = client(&app).await;

    let forecast = statistics
        .get_statistical_forecast(authorized(forecast_request(None), &app.token(&ravi)))
        .await
        .unwrap()
        .into_inner();

    // From the first month booked (July: the months before it hold no history) to November.
    assert_eq!(
        forecast
            .history
            .iter()
            .map(|booked| (
                booked.period.as_ref().unwrap().label.clone(),
                amount(&booked.bookings),
                booked.won_deals
            ))
            .collect::<Vec<_>>(),
        vec![
            ("2026-07".to_owned(), "300000 CNY".to_owned(), 1),
            ("2026-08".to_owned(), "500000 CNY".to_owned(), 1),
            ("2026-09".to_owned(), "400000 CNY".to_owned(), 2),
            ("2026-10".to_owned(), "800000 CNY".to_owned(), 1),
            ("2026-11".to_owned(), "1000000 CNY".to_owned(), 1),
        ]
    );
    assert_eq!(forecast.unconverted_deals, 1);
    assert_eq!(forecast.currency_code, "CNY");
    // Five months: no two seasons, so Holt and the regression.
    let methods: Vec<i32> = forecast
        .methods
        .iter()
        .map(|method| method.method)
        .collect();
    assert_eq!(
        methods,
        vec![
            StatisticalMethod::HoltLinear as i32,
            StatisticalMethod::LinearRegression as i32
        ]
    );

    // The line: x̄ = 2, ȳ = 600 000, slope 1 700 000 ÷ 10 = 170 000, intercept 260 000; the
    // next three months 1 110 000, 1 280 000, 1 450 000.
    let regression = &forecast.methods[1];
    assert_eq!(
        (regression.intercept.as_str(), regression.slope.as_str()),
        ("260000", "170000")
    );
    assert_eq!(
        labels(regression.forecasts.iter().map(|forecast| &forecast.period)),
        ["2026-12", "2027-01", "2027-02"]
    );
    assert_eq!(
        regression
            .forecasts
            .iter()
            .map(|forecast| amount(&forecast.bookings))
            .collect::<Vec<_>>(),
        ["1110000 CNY", "1280000 CNY", "1450000 CNY"]
    );
    // Back-tested from the third month: from July–August the line says 700 000 for September
    // (+300 000, 75 %); from July–September 500 000 for October (−300 000, 37.5 %); from
    // July–October 850 000 for November (−150 000, 15 %). Bias −50 000, MAPE 42.5.
    assert_eq!(
        regression
            .backtest
            .iter()
            .map(|point| (
                point.period.as_ref().unwrap().label.clone(),
                amount(&point.forecast),
                amount(&point.error),
                point.absolute_percentage_error.clone()
            ))
            .collect::<Vec<_>>(),
        vec![
            (
                "2026-09".into(),
                "700000 CNY".into(),
                "300000 CNY".into(),
                "75.00".into()
            ),
            (
                "2026-10".into(),
                "500000 CNY".into(),
                "-300000 CNY".into(),
                "37.50".into()
            ),
            (
                "2026-11".into(),
                "850000 CNY".into(),
                "-150000 CNY".into(),
                "15.00".into()
            ),
        ] as Vec<(String, String, String, String)>
    );
    let accuracy = regression.accuracy.as_ref().unwrap();
    assert_eq!(accuracy.count, 3);
    assert_eq!(amount(&accuracy.mean_error), "-50000 CNY");
    assert_eq!(accuracy.mean_absolute_percentage_error, "42.50");
    // Holt is judged over the same months, and the smaller MAPE is recommended.
    let holt = &forecast.methods[0];
    assert_eq!(
        labels(holt.backtest.iter().map(|point| &point.period)),
        ["2026-09", "2026-10", "2026-11"]
    );
    assert!(!holt.alpha.is_empty() && !holt.beta.is_empty() && holt.gamma.is_empty());
    let mape = |method: &pb::StatisticalMethodForecast| -> rust_decimal::Decimal {
        method
            .accuracy
            .as_ref()
            .unwrap()
            .mean_absolute_percentage_error
            .parse()
            .unwrap()
    };
    let best = if mape(holt) <= mape(regression) {
        holt
    } else {
        regression
    };
    assert_eq!(forecast.recommended, best.method);

    // The company's history holds Wes's deal too: September 450 000.
    let admin = user("admin", "/northwind/");
    let company = statistics
        .get_statistical_forecast(authorized(
            forecast_request(Some(pb::ForecastScope {
                company: true,
                ..Default::default()
            })),
            &app.token(&admin),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(amount(&company.history[2].bookings), "450000 CNY");
}

#[tokio::test]
async fn the_lines_parameters_are_written_without_trailing_zeros() {
    let app = start().await;
    let ravi = user("rep", EAST_1);
    for (deal_amount, closed_on) in [
        ("100000", "2026-08-10"),
        ("300000", "2026-09-10"),
        ("200000", "2026-10-10"),
        ("400000", "2026-11-10"),
    ] {
        publish(
            &app,
            Deal::of(&ravi, deal_amount).at(2, WON, 100, closed_on),
        )
        .await;
    }
    handled(&app, 4).await;
    let forecast = client(&app)
        .await
        .get_statistical_forecast(authorized(forecast_request(None), &app.token(&ravi)))
        .await
        .unwrap()
        .into_inner();
    // Four months: x̄ = 1.5, ȳ = 250 000, slope 400 000 ÷ 5 = 80 000, intercept 250 000 −
    // 1.5 × 80 000 = 130 000 — an integer, though the product carries a scale.
    let regression = &forecast.methods[1];
    assert_eq!(
        (regression.intercept.as_str(), regression.slope.as_str()),
        ("130000", "80000")
    );
    let holt = &forecast.methods[0];
    let grid: Vec<String> = (1..=9).map(|tenth| format!("0.{tenth}")).collect();
    assert!(
        grid.contains(&holt.alpha) && grid.contains(&holt.beta),
        "{holt:?}"
    );
}

#[tokio::test]
async fn quarters_are_the_organisations_fiscal_quarters() {
    let app = start().await;
    let ravi = user("rep", EAST_1);
    let wes = user("rep", WEST);
    book_history(&app, &ravi, &wes).await;
    let mut statistics = client(&app).await;
    let forecast = statistics
        .get_statistical_forecast(authorized(
            pb::GetStatisticalForecastRequest {
                period_kind: StatisticalPeriodKind::Quarter as i32,
                horizon: 2,
                ..forecast_request(None)
            },
            &app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner();
    // Fiscal years from April: July–September is FY2027-Q2; October–December, holding the
    // 15th of December, is the current quarter and not history.
    assert_eq!(
        forecast
            .history
            .iter()
            .map(|booked| {
                let period = booked.period.as_ref().unwrap();
                (
                    period.label.clone(),
                    period.start_date.clone(),
                    period.end_date.clone(),
                    amount(&booked.bookings),
                )
            })
            .collect::<Vec<_>>(),
        vec![(
            "FY2027-Q2".to_owned(),
            "2026-07-01".to_owned(),
            "2026-09-30".to_owned(),
            "1200000 CNY".to_owned()
        )]
    );
    // One quarter is no series: no method, none recommended.
    assert!(forecast.methods.is_empty());
    assert_eq!(forecast.recommended, StatisticalMethod::Unspecified as i32);
    assert_eq!(forecast.period_kind, StatisticalPeriodKind::Quarter as i32);
}

#[tokio::test]
async fn a_forecast_out_of_reach_or_malformed_is_refused() {
    let app = start().await;
    let mut statistics = client(&app).await;
    let west_manager = user("manager", WEST);
    let denied = statistics
        .get_statistical_forecast(authorized(
            forecast_request(Some(pb::ForecastScope {
                team_path: "/northwind/east/".into(),
                ..Default::default()
            })),
            &app.token(&west_manager),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let invalid = statistics
        .get_statistical_forecast(authorized(
            pb::GetStatisticalForecastRequest {
                horizon: 25,
                as_of: "15/12/2026".into(),
                ..Default::default()
            },
            &app.token(&west_manager),
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    assert!(invalid.message().contains("horizon") || !invalid.details().is_empty());
}
