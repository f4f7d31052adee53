//! Rankings (F7) over real PostgreSQL and NATS, from deal events the test publishes for the
//! opportunities service, against hand-computed figures — the data set of
//! `review_support/november.rs`.

mod review_support;

use crm_platform::auth::Caller;
use crm_proto::crm::forecasting::v1 as pb;
use review_support::november::{Org, amount, entries, november, organisation, quota};
use tonic::Code;
use tonic_types::StatusExt;

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

/// The wins feed: every won deal of the organisation, newest first, with who won it — for a rep
/// too while the organisation shows leaderboards to reps, only their own otherwise; a limit
/// above 100 refused by name.
#[tokio::test]
async fn the_wins_feed_shows_the_latest_wins_to_everyone_who_sees_the_leaderboard() {
    async fn wins(
        org: &Org,
        caller: &Caller,
        limit: u32,
    ) -> Result<pb::ListRecentWinsResponse, tonic::Status> {
        let request = org
            .harness
            .request(caller, pb::ListRecentWinsRequest { limit });
        Ok(org
            .client()
            .await
            .list_recent_wins(request)
            .await?
            .into_inner())
    }
    let feed = |answer: &pb::ListRecentWinsResponse| -> Vec<(String, String, String)> {
        answer
            .wins
            .iter()
            .map(|win| {
                (
                    win.owner_name.clone(),
                    amount(&win.corporate_amount),
                    win.closed_on.clone(),
                )
            })
            .collect()
    };
    let expected = |rows: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        rows.iter()
            .map(|(who, money, day)| ((*who).into(), (*money).into(), (*day).into()))
            .collect()
    };
    let org = organisation(&[]).await;
    let everyone = expected(&[
        ("Tom", "120000", "2026-11-15"),
        ("Wes", "900000", "2026-11-12"),
        ("Ravi", "250000", "2026-11-10"),
        ("Mei", "300000", "2026-11-06"),
        ("Ravi", "300000", "2026-11-05"),
        ("Ravi", "500000", "2026-10-15"),
    ]);
    // Lost and open deals are no wins; a rep in East reads West's win too.
    for caller in [&org.admin, &org.manager, &org.ravi] {
        assert_eq!(feed(&wins(&org, caller, 0).await.unwrap()), everyone);
    }
    let first = wins(&org, &org.tom, 2).await.unwrap();
    assert_eq!(feed(&first), everyone[..2]);
    assert_eq!(first.wins[0].amount.as_ref().unwrap().currency_code, "CNY");
    assert_eq!(first.wins[0].owner_team_path, "/northwind/east/east-2/");
    let refused = wins(&org, &org.ravi, 101).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let details = refused.get_error_details();
    let violations = &details.bad_request().unwrap().field_violations;
    assert_eq!(violations[0].field, "limit");

    // Where reps see only their own line on the leaderboard, they see only their own wins.
    let private = organisation(&[("CRM_FORECASTING_LEADERBOARD_VISIBLE_TO_REPS", "false")]).await;
    assert_eq!(
        feed(&wins(&private, &private.ravi, 0).await.unwrap()),
        expected(&[
            ("Ravi", "250000", "2026-11-10"),
            ("Ravi", "300000", "2026-11-05"),
            ("Ravi", "500000", "2026-10-15"),
        ])
    );
    assert_eq!(
        wins(&private, &private.manager, 0)
            .await
            .unwrap()
            .wins
            .len(),
        6
    );
}
