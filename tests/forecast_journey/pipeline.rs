//! F1, F2: the reps' deals of the quarter, and the manager's weighted pipeline by category, by
//! month, rolled up the team tree and deal by deal; a rep's category override moves it.

use serde_json::{Value, json};

use crate::{
    figures::{
        self, DEVELOP, LOST_ON_PRICE, NEGOTIATE, PROPOSE, QUALIFY, WON_FOR_PRODUCT_FIT, each, query,
    },
    org::{Calendar, Cast, EAST, EAST_1, id},
    suite::{Suite, cny, ok},
};

/// The journey's deals (ids) and Ravi's account.
pub struct Deals {
    pub contoso: String,
    /// Ravi's: 1,200,000 in Negotiate, 800,000 in Propose, 300,000 in Develop (won today).
    pub line3: String,
    pub packaging: String,
    pub cleanroom: String,
    /// Nora's: 400,000 in Qualify, 250,000 in Propose (lost today), 160,000 in Develop.
    pub cold_chain: String,
    pub sorting: String,
}

async fn account(suite: &Suite, rep: &crm_platform::auth::Caller, name: &str) -> String {
    ok(suite
        .post(
            rep,
            "/v1/accounts",
            json!({"account": {"name": name, "industry": "Manufacturing"}}),
        )
        .await)["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn deal(
    suite: &Suite,
    rep: &crm_platform::auth::Caller,
    account: &str,
    (name, amount, stage, close): (&str, &str, &str, String),
) -> String {
    let body = json!({"opportunity": {"name": name, "account_id": account,
        "amount": cny(amount), "stage_id": stage, "expected_close_date": close}});
    // The account reaches the opportunities service as an event, within moments.
    suite.post_when_known(rep, "/v1/opportunities", body).await["opportunity"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Ravi's and Nora's deals across the quarter's three months; one of each is closed today.
pub async fn open_the_quarter(suite: &Suite, calendar: &Calendar, cast: &Cast) -> Deals {
    let contoso = account(suite, &cast.ravi, "Contoso Ltd").await;
    let coho = account(suite, &cast.nora, "Coho Packaging").await;
    let ravi = |deal_of| deal(suite, &cast.ravi, &contoso, deal_of);
    let line3 = ravi((
        "Contoso — Line 3 automation",
        "1200000",
        NEGOTIATE,
        calendar.day(1, 10),
    ))
    .await;
    let packaging = ravi((
        "Contoso — packaging line",
        "800000",
        PROPOSE,
        calendar.day(2, 10),
    ))
    .await;
    let cleanroom = ravi((
        "Contoso — cleanroom retrofit",
        "300000",
        DEVELOP,
        calendar.day(0, 20),
    ))
    .await;
    let nora = |deal_of| deal(suite, &cast.nora, &coho, deal_of);
    let cold_chain = nora(("Coho — cold chain", "400000", QUALIFY, calendar.day(2, 20))).await;
    let sorting = nora((
        "Coho — sorting line",
        "250000",
        PROPOSE,
        calendar.day(0, 25),
    ))
    .await;
    nora(("Coho — spare parts", "160000", DEVELOP, calendar.day(1, 20))).await;

    let won = json!({"close_reason_id": WON_FOR_PRODUCT_FIT});
    ok(suite
        .post(
            &cast.ravi,
            &format!("/v1/opportunities/{cleanroom}:win"),
            won,
        )
        .await);
    let lost = json!({"close_reason_id": LOST_ON_PRICE, "note": "Globex came in 20 % lower"});
    ok(suite
        .post(
            &cast.nora,
            &format!("/v1/opportunities/{sorting}:lose"),
            lost,
        )
        .await);
    Deals {
        contoso,
        line3,
        packaging,
        cleanroom,
        cold_chain,
        sorting,
    }
}

/// The quarter and its months: (period, forecast line) of the whole and of each part.
fn quarter_and_months(answer: &Value) -> Vec<(String, String)> {
    std::iter::once(&answer["forecast"])
        .chain(each(answer, "parts"))
        .map(|forecast| {
            (
                figures::period(&forecast["period"]),
                figures::forecast(forecast),
            )
        })
        .collect()
}

/// A roll-up: its total, then each line as who (a sub-team's path or a rep's name) and figures.
fn roll_up(answer: &Value, cast: &Cast) -> Vec<(String, String)> {
    std::iter::once(("total".to_owned(), figures::forecast(&answer["total"])))
        .chain(each(answer, "lines").iter().map(|line| {
            let who = line["team_path"]
                .as_str()
                .unwrap_or_else(|| cast.name_of(line["user_id"].as_str().unwrap()));
            (who.to_owned(), figures::forecast(&line["forecast"]))
        }))
        .collect()
}

/// A deal list: "name category weighted" in the order listed.
fn deal_lines(answer: &Value) -> Vec<String> {
    each(answer, "deals")
        .iter()
        .map(|deal| {
            format!(
                "{} {} {}",
                deal["name"].as_str().unwrap(),
                deal["category"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("FORECAST_CATEGORY_"),
                figures::amount(&deal["weighted_amount"])
            )
        })
        .collect()
}

pub async fn the_manager_reads_the_quarter(
    suite: &Suite,
    calendar: &Calendar,
    cast: &Cast,
    deals: &Deals,
) {
    let mei = &cast.mei;
    let quarter = calendar.quarter.as_str();
    // East's quarter, Mei's own scope. Open, by category (amount, weighted = amount × the
    // stage's probability):
    //   pipeline  Coho cold chain 400,000 × 10 % = 40,000 + Coho spare parts 160,000 × 25 %
    //             = 40,000: 2 deals, 560,000, 80,000
    //   best case Contoso packaging 800,000 × 50 % = 400,000
    //   commit    Contoso Line 3 1,200,000 × 75 % = 900,000
    //   open      4 deals, 2,560,000, weighted 1,380,000
    // Won today: the cleanroom, 300,000 at 100 %; lost today: the sorting line, 250,000 at 0.
    // commit total = 300,000 + 1,200,000 = 1,500,000; best case total = 1,500,000 + 800,000 =
    // 2,300,000; weighted total = 300,000 + 1,380,000 = 1,680,000.
    // By month: this month holds the two closed today; the next the Line 3 (commit) and the
    // spare parts (pipeline): weighted 900,000 + 40,000 = 940,000; the third the packaging line
    // (best case) and the cold chain (pipeline): 400,000 + 40,000 = 440,000.
    let quarter_line = "P 2 560000 80000; B 1 800000 400000; C 1 1200000 900000; O 0 0 0; \
        open 4 2560000 1380000; won 1 300000 300000; lost 1 250000 0; \
        totals 1500000 2300000 1680000; unconverted 0";
    let expected = with_periods(
        calendar,
        [
            quarter_line,
            "P 0 0 0; B 0 0 0; C 0 0 0; O 0 0 0; open 0 0 0; won 1 300000 300000; \
             lost 1 250000 0; totals 300000 300000 300000; unconverted 0",
            "P 1 160000 40000; B 0 0 0; C 1 1200000 900000; O 0 0 0; open 2 1360000 940000; \
             won 0 0 0; lost 0 0 0; totals 1200000 1200000 940000; unconverted 0",
            "P 1 400000 40000; B 1 800000 400000; C 0 0 0; O 0 0 0; open 2 1200000 440000; \
             won 0 0 0; lost 0 0 0; totals 0 800000 440000; unconverted 0",
        ],
    );
    let pipeline_path = format!("/v1/forecasting/pipeline{}", query(&[("period", quarter)]));
    suite
        .get_when(mei, &pipeline_path, quarter_and_months, expected)
        .await;

    // Rolled up: East's one sub-team holds it all; East-1's two reps split it. Ravi: the
    // packaging line and Line 3 open (weighted 400,000 + 900,000) and the cleanroom won, so
    // weighted 1,600,000, commit 1,500,000, best case 2,300,000. Nora: her two pipeline deals
    // (80,000 weighted) and the lost sorting line. 1,600,000 + 80,000 = 1,680,000.
    let east = format!(
        "/v1/forecasting/pipeline:rollUp{}",
        query(&[("team_path", EAST), ("period", quarter)])
    );
    let answer = suite.get(mei, &east).await;
    assert_eq!(
        roll_up(&answer, cast),
        [
            ("total".to_owned(), quarter_line.to_owned()),
            (EAST_1.to_owned(), quarter_line.to_owned())
        ]
    );
    let mut reps = [
        (
            id(&cast.ravi),
            "P 0 0 0; B 1 800000 400000; C 1 1200000 900000; O 0 0 0; open 2 2000000 1300000; \
             won 1 300000 300000; lost 0 0 0; totals 1500000 2300000 1600000; unconverted 0",
            "Ravi",
        ),
        (
            id(&cast.nora),
            "P 2 560000 80000; B 0 0 0; C 0 0 0; O 0 0 0; open 2 560000 80000; won 0 0 0; \
             lost 1 250000 0; totals 0 0 80000; unconverted 0",
            "Nora",
        ),
    ];
    reps.sort();
    let east_1 = format!(
        "/v1/forecasting/pipeline:rollUp{}",
        query(&[("team_path", EAST_1), ("period", quarter)])
    );
    let answer = suite.get(mei, &east_1).await;
    let mut expected_lines = vec![("total".to_owned(), quarter_line.to_owned())];
    expected_lines.extend(
        reps.iter()
            .map(|(_, line, name)| ((*name).to_owned(), (*line).to_owned())),
    );
    assert_eq!(roll_up(&answer, cast), expected_lines);

    // The deals behind the numbers, by the day they count on (closed today: the day closed),
    // then id.
    let mut today = vec![
        (
            &deals.cleanroom,
            "Contoso — cleanroom retrofit CLOSED 300000",
        ),
        (&deals.sorting, "Coho — sorting line OMITTED 0"),
    ];
    today.sort();
    let mut expected: Vec<&str> = today.into_iter().map(|(_, line)| line).collect();
    expected.extend([
        "Contoso — Line 3 automation COMMIT 900000",
        "Coho — spare parts PIPELINE 40000",
        "Contoso — packaging line BEST_CASE 400000",
        "Coho — cold chain PIPELINE 40000",
    ]);
    let listed = format!("/v1/forecasting/deals{}", query(&[("period", quarter)]));
    assert_eq!(deal_lines(&suite.get(mei, &listed).await), expected);
    let pipeline_only = format!(
        "/v1/forecasting/deals{}",
        query(&[
            ("period", quarter),
            ("category", "FORECAST_CATEGORY_PIPELINE")
        ])
    );
    assert_eq!(
        deal_lines(&suite.get(mei, &pipeline_only).await),
        [
            "Coho — spare parts PIPELINE 40000",
            "Coho — cold chain PIPELINE 40000"
        ]
    );

    // Ravi commits the packaging line while it sits in Propose: best case empties into commit
    // (2 deals, 2,000,000, weighted 400,000 + 900,000 = 1,300,000), the commit total is
    // 300,000 + 2,000,000 = 2,300,000, and neither the best case total nor the weighted total
    // moves (the probability is still the stage's 50 %).
    let set = ok(suite
        .post(
            &cast.ravi,
            &format!("/v1/forecasting/deals/{}:setCategory", deals.packaging),
            json!({"category": "FORECAST_CATEGORY_COMMIT",
                "note": "The CFO said yes on the call; the PO is in signature"}),
        )
        .await);
    let deal = &set["deal"];
    assert_eq!(
        (
            &deal["category"],
            &deal["stage_category"],
            &deal["category_overridden"]
        ),
        (
            &json!("FORECAST_CATEGORY_COMMIT"),
            &json!("FORECAST_CATEGORY_BEST_CASE"),
            &json!(true)
        ),
        "{set}"
    );
    assert_eq!(set["category_override"]["set_by"], id(&cast.ravi));
    // Only the third month (the packaging line's) changes: commit 800,000 there too.
    let moved = with_periods(
        calendar,
        [
            "P 2 560000 80000; B 0 0 0; C 2 2000000 1300000; O 0 0 0; open 4 2560000 1380000; \
             won 1 300000 300000; lost 1 250000 0; totals 2300000 2300000 1680000; unconverted 0",
            "P 0 0 0; B 0 0 0; C 0 0 0; O 0 0 0; open 0 0 0; won 1 300000 300000; \
             lost 1 250000 0; totals 300000 300000 300000; unconverted 0",
            "P 1 160000 40000; B 0 0 0; C 1 1200000 900000; O 0 0 0; open 2 1360000 940000; \
             won 0 0 0; lost 0 0 0; totals 1200000 1200000 940000; unconverted 0",
            "P 1 400000 40000; B 0 0 0; C 1 800000 400000; O 0 0 0; open 2 1200000 440000; \
             won 0 0 0; lost 0 0 0; totals 800000 800000 440000; unconverted 0",
        ],
    );
    let answer = suite.get(mei, &pipeline_path).await;
    assert_eq!(quarter_and_months(&answer), moved);
}

/// The quarter and its three months ("label first last"), each with its expected line.
fn with_periods(calendar: &Calendar, lines: [&str; 4]) -> Vec<(String, String)> {
    let mut periods = vec![format!(
        "{} {} {}",
        calendar.quarter,
        calendar.months[0],
        calendar.quarter_end()
    )];
    periods.extend((0..3).map(|index| {
        format!(
            "{} {} {}",
            calendar.month_label(index),
            calendar.months[index],
            calendar.months[index + 1].pred_opt().unwrap()
        )
    }));
    periods.into_iter().zip(lines.map(str::to_owned)).collect()
}
