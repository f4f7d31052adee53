//! F3: Ada sets the company's revenue quotas and hands the quarter's down to the top of the
//! tree, Mei hands East's down to her reps with Nora's ramp, the consistency check finds the
//! one team left out, and attainment is closed won ÷ quota.

use serde_json::{Value, json};

use crate::{
    figures::{self, each, query},
    org::{Calendar, Cast, EAST, EAST_1, WEST, id},
    suite::{Suite, cny, ok},
};

/// The revenue line of an attainment: "target actual percent".
fn revenue_attainment(answer: &Value) -> String {
    let revenue = each(answer, "kinds")
        .iter()
        .find(|kind| kind["kind"] == "TARGET_KIND_REVENUE")
        .expect("a revenue line");
    format!(
        "{} {} {}",
        figures::amount(&revenue["target"]["amount"]),
        figures::amount(&revenue["actual"]["amount"]),
        revenue["attainment_percent"].as_str().unwrap_or("-")
    )
}

/// Who a resolved scope names: the company, a team path or a person's name.
fn holder(scope: &Value, cast: &Cast) -> String {
    if let Some(path) = scope["team_path"].as_str() {
        path.to_owned()
    } else if let Some(user) = scope["user_id"].as_str() {
        cast.name_of(user).to_owned()
    } else {
        "company".to_owned()
    }
}

/// The children's quotas a decomposition wrote: "holder amount".
fn children(answer: &Value, cast: &Cast) -> Vec<String> {
    each(answer, "children")
        .iter()
        .map(|quota| {
            format!(
                "{} {}",
                holder(&quota["holder"], cast),
                figures::amount(&quota["target"]["amount"])
            )
        })
        .collect()
}

async fn decompose(
    suite: &Suite,
    cast: &Cast,
    by: &crm_platform::auth::Caller,
    body: Value,
) -> Vec<String> {
    children(
        &ok(suite
            .post(by, "/v1/forecasting/quotas:decompose", body)
            .await),
        cast,
    )
}

pub async fn quotas_are_handed_down(suite: &Suite, calendar: &Calendar, cast: &Cast) {
    let (ada, mei) = (&cast.ada, &cast.mei);
    let quarter = calendar.quarter.as_str();
    for (period, target) in [(calendar.year.as_str(), "24000000"), (quarter, "6000000")] {
        let quota = ok(suite
            .post(
                ada,
                "/v1/forecasting/quotas",
                json!({"holder": {"company": true}, "kind": "TARGET_KIND_REVENUE",
                    "period": period, "target": {"amount": cny(target)}}),
            )
            .await)["quota"]
            .clone();
        assert_eq!(
            (quota["period"]["label"].as_str(), quota["version"].as_u64()),
            (Some(period), Some(1)),
            "{quota}"
        );
    }
    let revenue = |parent: Value, basis: &str| json!({"parent": parent, "kind": "TARGET_KIND_REVENUE", "period": quarter, "basis": basis});
    // The company's one child is the company team; it splits 3 : 1 between East and West:
    // 6,000,000 × 3/4 = 4,500,000 and × 1/4 = 1,500,000.
    let company = decompose(
        suite,
        cast,
        ada,
        revenue(json!({"company": true}), "DECOMPOSITION_BASIS_EVENLY"),
    )
    .await;
    assert_eq!(company, ["/northwind/ 6000000"]);
    let mut weighted = revenue(
        json!({"team_path": "/northwind/"}),
        "DECOMPOSITION_BASIS_WEIGHTS",
    );
    weighted["weights"] = json!([
        {"child": {"team_path": EAST}, "weight": "3"},
        {"child": {"team_path": WEST}, "weight": "1"},
    ]);
    assert_eq!(
        decompose(suite, cast, ada, weighted).await,
        [format!("{EAST} 4500000"), format!("{WEST} 1500000")]
    );
    // Mei plans East: its one child is East-1 (she is no rep), whose reps split it evenly but
    // for Nora, in her first month on a 25/50/75 ramp: weights 1 and 0.25, so Ravi
    // 4,500,000 × 1/1.25 = 3,600,000 and Nora 4,500,000 × 0.25/1.25 = 900,000.
    assert_eq!(
        decompose(
            suite,
            cast,
            mei,
            revenue(json!({"team_path": EAST}), "DECOMPOSITION_BASIS_EVENLY")
        )
        .await,
        [format!("{EAST_1} 4500000")]
    );
    let mut ramped = revenue(json!({"team_path": EAST_1}), "DECOMPOSITION_BASIS_EVENLY");
    ramped["ramp_percents"] = json!([25, 50, 75]);
    ramped["new_reps"] =
        json!([{"user_id": id(&cast.nora), "started_on": calendar.months[0].to_string()}]);
    let mut reps = [
        (id(&cast.ravi), "Ravi 3600000"),
        (id(&cast.nora), "Nora 900000"),
    ];
    reps.sort();
    assert_eq!(
        decompose(suite, cast, mei, ramped).await,
        reps.iter().map(|(_, line)| *line).collect::<Vec<_>>()
    );

    // West's 1,500,000 reached nobody below it: the one finding, naming Wes.
    let check = format!(
        "/v1/forecasting/quotas:check{}",
        query(&[("period", quarter), ("kind", "TARGET_KIND_REVENUE")])
    );
    let findings = |answer: &Value| -> Vec<String> {
        each(answer, "findings")
            .iter()
            .map(|finding| {
                let without: Vec<String> = each(finding, "children_without_quota")
                    .iter()
                    .map(|child| holder(child, cast))
                    .collect();
                format!(
                    "{} {} no child quotas {} without {:?}",
                    holder(&finding["parent"], cast),
                    figures::amount(&finding["quota"]["amount"]),
                    finding["no_child_quotas"],
                    without
                )
            })
            .collect()
    };
    assert_eq!(
        findings(&suite.get(ada, &check).await),
        [format!(
            "{WEST} 1500000 no child quotas true without [\"Wes\"]"
        )]
    );
    assert_eq!(
        decompose(
            suite,
            cast,
            ada,
            revenue(json!({"team_path": WEST}), "DECOMPOSITION_BASIS_EVENLY")
        )
        .await,
        ["Wes 1500000"]
    );
    assert_eq!(
        findings(&suite.get(ada, &check).await),
        Vec::<String>::new()
    );
    assert_eq!(
        findings(&suite.get(mei, &check).await),
        Vec::<String>::new()
    );

    // Attainment = closed won ÷ quota: the cleanroom's 300,000 is Ravi's 300,000 ÷ 3,600,000 =
    // 8.333 % → 8.33; East's ÷ 4,500,000 = 6.667 % → 6.67; the company's quarter ÷ 6,000,000 =
    // 5.00 and its year ÷ 24,000,000 = 1.25. Nora booked nothing of her 900,000.
    let attainment = |scope: (&'static str, String), period: &str| {
        format!(
            "/v1/forecasting/attainment{}",
            query(&[(scope.0, &scope.1), ("period", period)])
        )
    };
    let ravis = attainment(("scope.user_id", id(&cast.ravi)), quarter);
    let noras = attainment(("scope.user_id", id(&cast.nora)), quarter);
    let easts = attainment(("scope.team_path", EAST.to_owned()), quarter);
    let company_quarter = attainment(("scope.company", "true".to_owned()), quarter);
    let company_year = attainment(("scope.company", "true".to_owned()), &calendar.year);
    for (caller, path, expected) in [
        (mei, &ravis, "3600000 300000 8.33"),
        (mei, &noras, "900000 0 0.00"),
        (mei, &easts, "4500000 300000 6.67"),
        (ada, &company_quarter, "6000000 300000 5.00"),
        (ada, &company_year, "24000000 300000 1.25"),
    ] {
        let answer = suite.get(caller, path).await;
        assert_eq!(revenue_attainment(&answer), expected, "{answer}");
    }
}
