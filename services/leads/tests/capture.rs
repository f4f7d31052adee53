//! Capture from every channel, with dedupe on the way in (L1, L2).

mod support;

use crm_proto::crm::leads::v1 as pb;
use crm_test_support::user;
use support::{Harness, li_wei};
use tonic::Code;
use tonic_types::StatusExt;

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
