//! Capture from every channel, with dedupe on the way in (L1, L2).

mod support;

use crm_leads::import_baseline::IMPORT_CHUNK;
use crm_proto::crm::common::v1 as common;
use crm_proto::crm::leads::v1 as pb;
use crm_test_support::user;
use support::{Harness, li_wei};
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test]
async fn every_score_reason_carries_a_code_to_translate_it_by() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");

    let lead = harness.create(&ada, li_wei()).await.unwrap().lead.unwrap();

    let reasons = lead.score.unwrap().reasons;
    let industry = reasons[0].text.as_ref().unwrap();
    assert_eq!(industry.code, "leads.score.fit_rule_matched");
    assert_eq!(industry.params["field"], "industry");
    assert_eq!(industry.text, reasons[0].label);
    for reason in &reasons {
        let text = reason.text.as_ref().unwrap();
        assert!(text.code.starts_with("leads.score."), "{reason:?}");
        assert_eq!(text.text, reason.label);
    }
}

#[tokio::test]
async fn a_repeated_lead_is_flagged_and_bad_input_names_its_fields() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let first = harness.create(&ada, li_wei()).await.unwrap();
    assert_eq!(first.dedupe, pb::DedupeOutcome::Unique as i32);
    let lead = first.lead.unwrap();
    assert_eq!(lead.phone, "+8613800138000");
    assert_eq!(
        lead.pool_team_path, "/northwind/",
        "an admin's lead waits in the admin's pool"
    );
    assert!(lead.owner_id.is_empty());
    let score = lead.score.unwrap();
    assert!(score.total > 0 && !score.reasons.is_empty(), "{score:?}");

    // The expo spelling: upper case, domain in capitals, phone without +86.
    let again = harness
        .create(
            &ada,
            pb::LeadInput {
                first_name: "WEI".into(),
                last_name: "LI".into(),
                email: "LI.WEI@CONTOSO.CN".into(),
                phone: "138 0013 8000".into(),
                company: "CONTOSO LTD.".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(again.dedupe, pb::DedupeOutcome::Flagged as i32);
    assert_eq!(again.lead.as_ref().unwrap().possible_duplicate_of, lead.id);
    assert!(again.duplicate_score >= 90);

    let status = harness
        .create(
            &ada,
            pb::LeadInput {
                email: "li.wei@".into(),
                phone: "12".into(),
                company_size: 9,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    for field in ["lead.email", "lead.phone", "lead.company_size"] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} missing in {fields:?}"
        );
    }
    assert_eq!(
        harness.count("leads", "SELECT count(*) FROM leads").await,
        2
    );
}

#[tokio::test]
async fn an_import_keeps_valid_rows_reports_bad_ones_by_line_and_merges_by_policy() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let original = harness.create(&ada, li_wei()).await.unwrap().lead.unwrap();
    // Imports auto-merge certain duplicates (same email or phone).
    harness
        .admin
        .clone()
        .update_lead_policies(harness.auth(
            &ada,
            pb::UpdateLeadPoliciesRequest {
                policies: Some(pb::LeadPolicies {
                    duplicate_actions:
                        [("import".to_owned(), pb::DuplicateAction::AutoMerge as i32)].into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap();
    let campaign = harness
        .admin
        .clone()
        .create_campaign(harness.auth(
            &ada,
            pb::CreateCampaignRequest {
                campaign: Some(pb::Campaign {
                    name: "Spring Expo".into(),
                    channel: pb::SourceChannel::Campaign as i32,
                    cost: Some(crm_proto::crm::common::v1::Money {
                        currency_code: "CNY".into(),
                        amount: "20000.00".into(),
                    }),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();

    let row = |first: &str, last: &str, email: &str, company: &str| pb::LeadInput {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        company: company.into(),
        title: "Engineer".into(),
        ..Default::default()
    };
    let rows = vec![
        row("Min", "Zhang", "zhang.min@fabrikam.com", "Fabrikam"),
        pb::LeadInput {
            phone: "138 0013 8000".into(),
            ..row("WEI", "LI", "", "contoso ltd")
        },
        row("Bad", "Email", "not-an-email", "Tailspin"),
        row(
            "Jie",
            "Chen",
            "chen.jie@northwind.example",
            "Northwind Traders",
        ),
        row("Also", "Bad", "x@y", "Initech"),
    ];
    let requests: Vec<pb::ImportLeadsRequest> = rows
        .into_iter()
        .enumerate()
        .map(|(index, row)| pb::ImportLeadsRequest {
            campaign_id: if index == 0 {
                campaign.id.clone()
            } else {
                String::new()
            },
            line: index as u64 + 2, // line 1 is the CSV header
            row: Some(row),
        })
        .collect();
    let summary = harness
        .leads
        .clone()
        .import_leads(harness.auth(&ada, tokio_stream::iter(requests)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary.rows_received, 5);
    assert_eq!(summary.created, 2);
    assert_eq!(summary.merged_duplicates, 1);
    assert_eq!(summary.rejected, 2);
    let lines: Vec<u64> = summary.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![4, 6]);
    assert!(
        summary.errors.iter().all(|e| e.field == "row.email"),
        "{:?}",
        summary.errors
    );

    // The merged row filled what the original lacked and is recorded, undoably.
    assert_eq!(
        harness.count("leads", "SELECT count(*) FROM leads WHERE campaign_id IS NOT NULL AND merged_into_lead_id IS NULL").await,
        2
    );
    let kinds = harness.history_kinds(&ada, &original.id).await;
    assert!(kinds.contains(&"merged".to_owned()), "{kinds:?}");
    assert_eq!(
        harness
            .count("leads", "SELECT count(*) FROM lead_merges")
            .await,
        1
    );
}

#[tokio::test]
async fn a_merge_can_be_undone() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let survivor = harness
        .create(
            &ada,
            pb::LeadInput {
                last_name: "Li".into(),
                company: "Contoso".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    let duplicate = harness
        .create(
            &ada,
            pb::LeadInput {
                last_name: "Li".into(),
                company: "Contoso".into(),
                email: "li@contoso.cn".into(),
                title: "CTO".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap();
    let merged = harness
        .leads
        .clone()
        .merge_leads(harness.auth(
            &ada,
            pb::MergeLeadsRequest {
                survivor_id: survivor.id.clone(),
                duplicate_id: duplicate.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let kept = merged.survivor.unwrap();
    assert_eq!(kept.email, "li@contoso.cn");
    assert_eq!(kept.title, "CTO");
    assert_eq!(
        harness
            .lead(&ada, &duplicate.id)
            .await
            .unwrap()
            .merged_into_lead_id,
        survivor.id
    );

    let undone = harness
        .leads
        .clone()
        .undo_lead_merge(harness.auth(
            &ada,
            pb::UndoLeadMergeRequest {
                merge_id: merged.merge_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let survivor_after = undone.survivor.unwrap();
    assert_eq!(
        survivor_after.email, "",
        "what the merge gave is taken back"
    );
    assert_eq!(survivor_after.title, "");
    assert!(undone.restored.unwrap().merged_into_lead_id.is_empty());
    let status = harness
        .leads
        .clone()
        .undo_lead_merge(harness.auth(
            &ada,
            pb::UndoLeadMergeRequest {
                merge_id: merged.merge_id,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn a_web_form_captures_into_its_pool_with_a_key_and_a_rate_limit() {
    let harness = Harness::start().await;
    let mei = user("manager", "/northwind/east");
    let form = harness
        .admin
        .clone()
        .create_web_form(harness.auth(
            &mei,
            pb::CreateWebFormRequest {
                name: "Contact us".into(),
                team_path: String::new(),
                rate_limit_per_minute: 2,
                campaign_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let submit = |key: &str, email: &str| pb::SubmitWebFormRequest {
        form_key: key.into(),
        lead: Some(pb::LeadInput {
            last_name: "Visitor".into(),
            email: email.into(),
            ..Default::default()
        }),
    };
    let mut forms = harness.forms.clone();
    forms
        .submit_web_form(submit(&form.form_key, "a@fabrikam.com"))
        .await
        .unwrap();
    forms
        .submit_web_form(submit(&form.form_key, "b@fabrikam.com"))
        .await
        .unwrap();
    let status = forms
        .submit_web_form(submit(&form.form_key, "c@fabrikam.com"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    let status = forms
        .submit_web_form(submit("wf_forged", "d@fabrikam.com"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        harness
            .count("leads", "SELECT count(*) FROM leads WHERE source_channel = 3 AND pool_team_path = '/northwind/east/'")
            .await,
        2
    );
    assert_eq!(
        harness
            .count(
                "leads",
                "SELECT count(*) FROM web_forms WHERE key_hash LIKE 'wf_%'"
            )
            .await,
        0,
        "only hashes are stored"
    );
}

/// Streams `rows` through ImportLeads as lines 2, 3, … (line 1 is the CSV header).
async fn import(
    harness: &Harness,
    caller: &crm_platform::auth::Caller,
    rows: Vec<pb::LeadInput>,
) -> pb::ImportLeadsResponse {
    let requests: Vec<pb::ImportLeadsRequest> = rows
        .into_iter()
        .enumerate()
        .map(|(index, row)| pb::ImportLeadsRequest {
            campaign_id: String::new(),
            line: index as u64 + 2,
            row: Some(row),
        })
        .collect();
    harness
        .leads
        .clone()
        .import_leads(harness.auth(caller, tokio_stream::iter(requests)))
        .await
        .unwrap()
        .into_inner()
}

async fn set_import_policy(
    harness: &Harness,
    admin: &crm_platform::auth::Caller,
    action: pb::DuplicateAction,
) {
    harness
        .admin
        .clone()
        .update_lead_policies(harness.auth(
            admin,
            pb::UpdateLeadPoliciesRequest {
                policies: Some(pb::LeadPolicies {
                    duplicate_actions: [("import".to_owned(), action as i32)].into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap();
}

/// (id, email, possible_duplicate_of, merged_into) of every lead, oldest first.
async fn stored_leads(
    harness: &Harness,
) -> Vec<(
    uuid::Uuid,
    Option<String>,
    Option<uuid::Uuid>,
    Option<uuid::Uuid>,
)> {
    sqlx::query_as(
        "SELECT id, email, possible_duplicate_of, merged_into_lead_id FROM leads ORDER BY created_at, id",
    )
    .fetch_all(harness.app.pool("leads"))
    .await
    .unwrap()
}

fn person(first: &str, last: &str, email: &str, company: &str) -> pb::LeadInput {
    pb::LeadInput {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        company: company.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_duplicate_inside_the_file_is_flagged_against_the_earlier_row() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let summary = import(
        &harness,
        &ada,
        vec![
            person("Min", "Zhang", "zhang.min@fabrikam.com", "Fabrikam"),
            person(
                "Jie",
                "Chen",
                "chen.jie@northwind.example",
                "Northwind Traders",
            ),
            // The first row again, spelled as another list spells it.
            person("MIN", "ZHANG", "Zhang.Min@FABRIKAM.com", "FABRIKAM LTD"),
        ],
    )
    .await;
    assert_eq!(
        (
            summary.rows_received,
            summary.created,
            summary.flagged_duplicates
        ),
        (3, 3, 1)
    );
    assert_eq!((summary.merged_duplicates, summary.rejected), (0, 0));
    let leads = stored_leads(&harness).await;
    assert_eq!(leads.len(), 3);
    let (first, _, _, _) = &leads[0];
    assert_eq!(leads[0].2, None);
    assert_eq!(leads[1].2, None);
    assert_eq!(leads[2].1.as_deref(), Some("zhang.min@fabrikam.com"));
    assert_eq!(leads[2].2, Some(*first), "flagged against the first row");
    assert_eq!(
        harness
            .count(
                "leads",
                "SELECT count(*) FROM leads WHERE duplicate_score >= 90"
            )
            .await,
        1
    );
    let kinds = harness.history_kinds(&ada, &leads[2].0.to_string()).await;
    assert_eq!(kinds, ["captured"]);
}

#[tokio::test]
async fn a_duplicate_inside_the_file_is_merged_by_policy_and_the_rows_after_it_still_see_the_survivor()
 {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    set_import_policy(&harness, &ada, pb::DuplicateAction::AutoMerge).await;
    let summary = import(
        &harness,
        &ada,
        vec![
            person("Min", "Zhang", "zhang.min@fabrikam.com", "Fabrikam"),
            // Same email: merged into the first row, giving it this phone.
            pb::LeadInput {
                phone: "138 0013 8000".into(),
                ..person("Min", "Zhang", "zhang.min@fabrikam.com", "")
            },
            // Same phone only: merged into the survivor, which has the phone since the merge.
            pb::LeadInput {
                phone: "+86 138 0013 8000".into(),
                ..person("", "Zhang", "", "")
            },
            person(
                "Jie",
                "Chen",
                "chen.jie@northwind.example",
                "Northwind Traders",
            ),
        ],
    )
    .await;
    assert_eq!(summary.rows_received, 4);
    assert_eq!(
        (
            summary.created,
            summary.merged_duplicates,
            summary.flagged_duplicates
        ),
        (2, 2, 0),
        "{summary:?}"
    );
    let leads = stored_leads(&harness).await;
    let survivor = leads[0].0;
    let merged: Vec<_> = leads.iter().filter_map(|lead| lead.3).collect();
    assert_eq!(merged, [survivor, survivor]);
    assert_eq!(
        harness
            .count("leads", "SELECT count(*) FROM lead_merges")
            .await,
        2
    );
}

#[tokio::test]
async fn an_import_of_several_chunks_counts_every_row_and_announces_each_new_lead_once() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    // Three chunks: the second is matched while the first is written, the third after the
    // first committed.
    let chunk = IMPORT_CHUNK;
    let total = 2 * chunk + 200;
    let lead = |n: usize| pb::LeadInput {
        phone: format!("+86 139 {:04} {:04}", n / 10_000, n % 10_000),
        ..person(
            "Lead",
            &n.to_string(),
            &format!("lead.{n}@company-{n}.example"),
            &format!("Company {n} Holdings"),
        )
    };
    // The same person again, by email only.
    let again = |n: usize| {
        person(
            "Lead",
            &n.to_string(),
            &format!("LEAD.{n}@company-{n}.example"),
            "",
        )
    };
    let rows: Vec<pb::LeadInput> = (0..total)
        .map(|n| match n {
            // Invalid: reported by line, not stored.
            n if n % 100 == 7 => person("Bad", "Email", &format!("bad.{n}@"), "Initech"),
            // Not a campaign.
            n if n == chunk + 50 => pb::LeadInput {
                campaign_id: uuid::Uuid::now_v7().to_string(),
                ..lead(n)
            },
            // Duplicates of earlier rows: in the same chunk, in the chunk being written, in a
            // committed chunk.
            40 => again(20),
            n if n == chunk + 10 => again(chunk - 10),
            n if n == 2 * chunk + 10 => again(30),
            n => lead(n),
        })
        .collect();
    let summary = import(&harness, &ada, rows).await;
    let invalid = (0..total).filter(|n| n % 100 == 7).count() as u64;
    let created = total as u64 - invalid - 1;
    assert_eq!(summary.rows_received, total as u64);
    assert_eq!(summary.rejected, invalid + 1);
    assert_eq!(summary.errors.len() as u64, invalid + 1);
    assert!(
        summary
            .errors
            .windows(2)
            .all(|pair| pair[0].line < pair[1].line)
    );
    assert_eq!(summary.errors[0].line, 9, "row 7 is line 9");
    let campaign_error = summary
        .errors
        .iter()
        .find(|error| error.field == "row.campaign_id")
        .expect("the unknown campaign is reported");
    assert_eq!(campaign_error.line, chunk as u64 + 52);
    assert_eq!(summary.created, created);
    assert_eq!(summary.flagged_duplicates, 3);
    assert_eq!(summary.merged_duplicates, 0);

    assert_eq!(
        harness.count("leads", "SELECT count(*) FROM leads").await,
        created as i64
    );
    let flagged: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT l.last_name, o.last_name FROM leads l LEFT JOIN leads o ON o.id = l.possible_duplicate_of \
         WHERE l.possible_duplicate_of IS NOT NULL ORDER BY l.created_at",
    )
    .fetch_all(harness.app.pool("leads"))
    .await
    .unwrap();
    let pairs: Vec<(&str, Option<&str>)> = flagged
        .iter()
        .map(|(own, of)| (own.as_str(), of.as_deref()))
        .collect();
    let (in_flight, committed) = ((chunk - 10).to_string(), "30".to_owned());
    assert_eq!(
        pairs,
        [
            ("20", Some("20")),
            (in_flight.as_str(), Some(in_flight.as_str())),
            ("30", Some(committed.as_str())),
        ]
    );
    assert_eq!(
        harness
            .count(
                "leads",
                "SELECT count(*) FROM lead_history WHERE kind = 'captured'"
            )
            .await,
        created as i64
    );
    let captured = "event_type = 'crm.leads.v1.LeadCaptured'";
    assert_eq!(
        harness
            .count(
                "leads",
                &format!("SELECT count(*) FROM outbox WHERE {captured}")
            )
            .await,
        created as i64
    );
    assert_eq!(
        harness
            .count(
                "leads",
                &format!(
                    "SELECT count(*) FROM leads l WHERE (SELECT count(*) FROM outbox o \
                     WHERE {captured} AND o.aggregate_id = l.id::text AND o.aggregate_version = 1) = 1"
                )
            )
            .await,
        created as i64,
        "exactly one LeadCaptured per created lead"
    );
}

#[tokio::test]
async fn imported_leads_are_assigned_by_the_pools_rules_after_their_capture() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let ravi = user("rep", support::EAST_1);
    harness
        .put_rep(
            &ada,
            &ravi,
            "Ravi",
            common::LifecycleStage::Senior,
            "2020-01-01",
            20,
        )
        .await;
    harness
        .admin
        .clone()
        .put_assignment_rules(harness.auth(
            &ada,
            pb::PutAssignmentRulesRequest {
                team_path: "/northwind".into(),
                rules: vec![pb::AssignmentRule {
                    id: String::new(),
                    name: "East territory".into(),
                    criteria: Some(pb::RuleCriteria {
                        territories: vec!["east".into()],
                        ..Default::default()
                    }),
                    rep_ids: vec![ravi.user_id.to_string()],
                }],
            },
        ))
        .await
        .unwrap();
    let rows = (0..5)
        .map(|n| pb::LeadInput {
            territory: "East".into(),
            ..person(
                "Lead",
                &n.to_string(),
                &format!("lead.{n}@company-{n}.example"),
                &format!("Company {n}"),
            )
        })
        .collect();
    let summary = import(&harness, &ada, rows).await;
    assert_eq!(summary.created, 5);
    assert_eq!(
        harness
            .count(
                "leads",
                &format!(
                    "SELECT count(*) FROM leads WHERE owner_id = '{}' AND status = 'assigned'",
                    ravi.user_id
                )
            )
            .await,
        5
    );
    // Each lead's events in order: captured (version 1), then assigned (version 2).
    let events: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT aggregate_id, event_type, aggregate_version FROM outbox ORDER BY seq",
    )
    .fetch_all(harness.app.pool("leads"))
    .await
    .unwrap();
    assert_eq!(events.len(), 10);
    for lead in events.iter().map(|(id, _, _)| id) {
        let own: Vec<(&str, i64)> = events
            .iter()
            .filter(|(id, _, _)| id == lead)
            .map(|(_, kind, version)| (kind.as_str(), *version))
            .collect();
        assert_eq!(
            own,
            [
                ("crm.leads.v1.LeadCaptured", 1),
                ("crm.leads.v1.LeadAssigned", 2)
            ]
        );
    }
    let first = events[0].0.clone();
    assert_eq!(
        harness.history_kinds(&ada, &first).await,
        ["captured", "assigned"]
    );
}

/// A NUL in one row made the whole import a 500 (PostgreSQL refuses it in text) and stored
/// none of the file; the row is refused by its line and the others are kept.
#[tokio::test]
async fn an_import_row_with_a_control_character_is_refused_by_line_and_the_rest_kept() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let summary = import(
        &harness,
        &ada,
        vec![
            pb::LeadInput {
                email: "first@contoso.cn".into(),
                ..li_wei()
            },
            pb::LeadInput {
                last_name: "Z\u{0}hang".into(),
                company: "Fabrikam".into(),
                ..Default::default()
            },
            pb::LeadInput {
                last_name: "Chen".into(),
                company: "Northwind".into(),
                // Several lines are a description's right.
                description: "met at the expo\nwants a demo".into(),
                ..Default::default()
            },
        ],
    )
    .await;
    assert_eq!((summary.created, summary.rejected), (2, 1), "{summary:?}");
    let error = &summary.errors[0];
    assert_eq!((error.line, error.field.as_str()), (3, "row.last_name"));
    assert!(error.message.contains("U+0000"), "{error:?}");
    assert_eq!(
        harness.count("leads", "SELECT count(*) FROM leads").await,
        2
    );
}

#[tokio::test]
async fn imported_text_is_stored_as_sent() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let description = "Tab\there, a new\nline, a back\\slash, \\N, \\t and 中文 ✓";
    let summary = import(
        &harness,
        &ada,
        vec![pb::LeadInput {
            description: description.into(),
            title: "Head of \\ Automation".into(),
            website: "https://www.contoso.cn".into(),
            territory: "East".into(),
            company_size: common::CompanySize::Large as i32,
            ..li_wei()
        }],
    )
    .await;
    assert_eq!(summary.created, 1);
    let id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM leads")
        .fetch_one(harness.app.pool("leads"))
        .await
        .unwrap();
    let lead = harness.lead(&ada, &id.to_string()).await.unwrap();
    assert_eq!(lead.description, description);
    assert_eq!(lead.title, "Head of \\ Automation");
    assert_eq!(lead.email, "li.wei@contoso.cn");
    assert_eq!(lead.phone, "+8613800138000");
    assert_eq!(lead.territory, "east");
    assert_eq!(lead.company_size, common::CompanySize::Large as i32);
    assert_eq!(lead.status, pb::LeadStatus::New as i32);
    assert_eq!(lead.version, 1);
    assert!(lead.owner_id.is_empty() && lead.possible_duplicate_of.is_empty());
    assert_eq!(lead.created_at, lead.updated_at);
    assert!(lead.score.unwrap().total > 0);
    // The derived key columns are what a single capture stores.
    let keys: (String, String, Option<String>, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT person_key, company_key, domain, created_by FROM leads")
            .fetch_one(harness.app.pool("leads"))
            .await
            .unwrap();
    assert_eq!(
        keys,
        (
            "wei li".to_owned(),
            "contoso".to_owned(),
            Some("contoso.cn".to_owned()),
            Some(ada.user_id)
        )
    );
    let history: (String, serde_json::Value, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT summary, details, actor_id FROM lead_history WHERE lead_id = $1")
            .bind(id)
            .fetch_one(harness.app.pool("leads"))
            .await
            .unwrap();
    assert_eq!(history.0, "captured from import");
    assert!(
        history.1["score"]
            .as_array()
            .is_some_and(|reasons| !reasons.is_empty()),
        "{:?}",
        history.1
    );
    assert_eq!(history.2, Some(ada.user_id));
}

#[tokio::test]
async fn capture_matches_the_same_email_before_a_crowd_of_similar_names() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    // More older leads with a similar company name than a capture looks at.
    let crowd = (1..=25)
        .map(|n| {
            person(
                "Rep",
                &format!("Number{n}"),
                &format!("buyer{n}@precision{n}.example"),
                &format!("Precision Logistics {n}"),
            )
        })
        .collect();
    let summary = import(&harness, &ada, crowd).await;
    assert_eq!(summary.created, 25);
    let ana = person(
        "Ana",
        "Lopez",
        "ana.lopez@plg.example",
        "Precision Logistics",
    );
    let first = harness.create(&ada, ana.clone()).await.unwrap();
    let again = harness.create(&ada, ana).await.unwrap();
    assert_eq!(again.dedupe, pb::DedupeOutcome::Flagged as i32);
    assert_eq!(
        again.lead.unwrap().possible_duplicate_of,
        first.lead.unwrap().id,
        "flagged against the lead with the same email, not lost behind older similar names"
    );
}
