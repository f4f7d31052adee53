//! F4: the reps call their quarter, Mei calls East's over their calls with a cautious
//! adjustment, and her roll-up shows each level's current call; a rep does not see it.

use serde_json::{Value, json};

use crate::{
    figures::{self, each, query},
    org::{Calendar, Cast, EAST, EAST_1},
    suite::{Suite, cny, ok},
};

/// A call's or a roll-up's numbers: "commit / best case / pipeline".
fn numbers(numbers: &Value) -> String {
    format!(
        "{} / {} / {}",
        figures::amount(&numbers["commit"]),
        figures::amount(&numbers["best_case"]),
        figures::amount(&numbers["pipeline"])
    )
}

fn call_numbers(commit: &str, best_case: &str, pipeline: &str) -> Value {
    json!({"commit": cny(commit), "best_case": cny(best_case), "pipeline": cny(pipeline)})
}

/// What the pipeline said when a call was made: "closed; commit best case pipeline omitted;
/// commit total best case total".
fn pipeline_at_call(call: &Value) -> String {
    let at = &call["pipeline"];
    let money = |field: &str| figures::amount(&at[field]);
    format!(
        "{}; {} {} {} {}; {} {}",
        money("closed"),
        money("commit"),
        money("best_case"),
        money("pipeline"),
        money("omitted"),
        money("commit_total"),
        money("best_case_total")
    )
}

/// A team level of a call roll-up, and the levels below it, one line each: "team: reps'
/// calls | own call | below | number | reps without a call".
fn levels(team: &Value, cast: &Cast, lines: &mut Vec<String>) {
    let reps: Vec<String> = each(team, "reps")
        .iter()
        .map(|rep| {
            format!(
                "{} {}",
                cast.name_of(rep["user_id"].as_str().unwrap()),
                numbers(&rep["current_call"]["numbers"])
            )
        })
        .collect();
    lines.push(format!(
        "{}: {:?} | own {} | below {} | number {} | {} without",
        team["team_path"].as_str().unwrap(),
        reps,
        numbers(&team["current_call"]["numbers"]),
        numbers(&team["below"]),
        numbers(&team["number"]),
        team["reps_without_call"]
    ));
    for sub_team in each(team, "sub_teams") {
        levels(sub_team, cast, lines);
    }
}

pub async fn calls_are_made_and_rolled_up(suite: &Suite, calendar: &Calendar, cast: &Cast) {
    let quarter = calendar.quarter.as_str();
    let submit =
        |numbers: Value, note: &str| json!({"period": quarter, "numbers": numbers, "note": note});
    // Out of order — commit above best case — is refused.
    let refused = suite
        .post(
            &cast.ravi,
            "/v1/forecasting/calls",
            submit(call_numbers("2300000", "1500000", "2300000"), "oops"),
        )
        .await;
    assert_eq!(
        refused.status,
        422,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );

    // Ravi calls the cleanroom and Line 3 as commit (300,000 + 1,200,000) and the packaging
    // line only as best case, though he committed it in the forecast; the pipeline then said
    // closed 300,000, commit 2,000,000 (Line 3 and the packaging line), commit total 2,300,000.
    let ravis = ok(suite
        .post(
            &cast.ravi,
            "/v1/forecasting/calls",
            submit(
                call_numbers("1500000", "2300000", "2300000"),
                "Packaging waits for the PO",
            ),
        )
        .await)["call"]
        .clone();
    assert_eq!(numbers(&ravis["numbers"]), "1500000 / 2300000 / 2300000");
    assert_eq!(
        pipeline_at_call(&ravis),
        "300000; 2000000 0 0 0; 2300000 2300000",
        "{ravis}"
    );
    let noras = ok(suite
        .post(
            &cast.nora,
            "/v1/forecasting/calls",
            submit(
                call_numbers("0", "160000", "560000"),
                "Spare parts could land",
            ),
        )
        .await)["call"]
        .clone();
    assert_eq!(pipeline_at_call(&noras), "0; 0 0 560000 0; 0 0", "{noras}");

    // Mei's call for East (her own team): the calls below added up — commit 1,500,000 + 0,
    // best case 2,300,000 + 160,000 = 2,460,000, pipeline 2,300,000 + 560,000 = 2,860,000 —
    // and 100,000 held back from commit: 1,400,000 / 2,460,000 / 2,860,000.
    let meis = ok(suite
        .post(
            &cast.mei,
            "/v1/forecasting/calls",
            json!({"period": quarter, "note": "Line 3 signs only after the board meeting",
                "adjustment": call_numbers("-100000", "0", "0")}),
        )
        .await)["call"]
        .clone();
    assert_eq!(
        (
            meis["scope"]["team_path"].as_str(),
            numbers(&meis["rolled_up"]),
            numbers(&meis["numbers"])
        ),
        (
            Some(EAST),
            "1500000 / 2460000 / 2860000".to_owned(),
            "1400000 / 2460000 / 2860000".to_owned()
        ),
        "{meis}"
    );

    // The roll-up: East has no reps of its own and one sub-team, East-1, whose reps both
    // called; East-1 has no call of its own, so it says upward what its reps say.
    let roll_up = format!(
        "/v1/forecasting/calls:rollUp{}",
        query(&[("period", quarter)])
    );
    let answer = suite.get(&cast.mei, &roll_up).await;
    let mut reps = vec![
        (&cast.ravi.user_id, "Ravi 1500000 / 2300000 / 2300000"),
        (&cast.nora.user_id, "Nora 0 / 160000 / 560000"),
    ];
    reps.sort();
    let reps: Vec<&str> = reps.into_iter().map(|(_, line)| line).collect();
    let mut lines = Vec::new();
    levels(&answer["team"], cast, &mut lines);
    assert_eq!(
        lines,
        [
            format!(
                "{EAST}: [] | own 1400000 / 2460000 / 2860000 | below 1500000 / 2460000 / \
                 2860000 | number 1400000 / 2460000 / 2860000 | 0 without"
            ),
            format!(
                "{EAST_1}: {reps:?} | own - / - / - | below 1500000 / 2460000 / 2860000 | \
                 number 1500000 / 2460000 / 2860000 | 0 without"
            ),
        ],
        "{answer}"
    );
    // The calls' history: Mei sees all three, newest first.
    let history = format!("/v1/forecasting/calls{}", query(&[("period", quarter)]));
    let listed: Vec<Value> = each(&suite.get(&cast.mei, &history).await, "calls").to_vec();
    let ids: Vec<&Value> = listed.iter().map(|call| &call["call_id"]).collect();
    assert_eq!(
        ids,
        [&meis["call_id"], &noras["call_id"], &ravis["call_id"]]
    );

    // A rep does not see the manager's view above them.
    let above = format!(
        "/v1/forecasting/calls:rollUp{}",
        query(&[("team_path", EAST), ("period", quarter)])
    );
    let refused = suite.http.get(&above, Some(&suite.token(&cast.ravi))).await;
    assert_eq!(
        refused.status,
        403,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
}
