//! Shared set-up of the leads tests: the service (optionally with accounts) and typed clients.
#![allow(dead_code)]

use crm_platform::{
    auth::Caller,
    org::{OrgDirectory, OrgSettings},
};
use crm_proto::crm::common::v1 as common;
use crm_proto::crm::leads::v1::{
    self as pb, lead_admin_service_client::LeadAdminServiceClient,
    lead_service_client::LeadServiceClient, web_form_service_client::WebFormServiceClient,
};
use crm_test_support::{TestApp, authorized};
use tonic::transport::Channel;

pub const EAST_1: &str = "/northwind/east/east-1";

pub struct Harness {
    pub app: TestApp,
    pub leads: LeadServiceClient<Channel>,
    pub admin: LeadAdminServiceClient<Channel>,
    pub forms: WebFormServiceClient<Channel>,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with_modules(&[crm_leads::module()]).await
    }

    pub async fn with_modules(modules: &[crm_platform::host::ServiceModule]) -> Self {
        Self::from_app(TestApp::spawn(modules).await).await
    }

    /// The harness over `app`, whose services know the organisation's default calling code
    /// (86), as if the gateway's OrgSettingsUpdated had reached them: national numbers are read
    /// as Chinese ones.
    pub async fn from_app(app: TestApp) -> Self {
        for service in ["leads", "accounts"] {
            if let Some(context) = app.services.context(service) {
                let mut connection = context.pool.acquire().await.unwrap();
                OrgDirectory::record_settings(
                    &mut connection,
                    &OrgSettings {
                        default_calling_code: Some("86".into()),
                        version: 1,
                        ..OrgSettings::default()
                    },
                )
                .await
                .unwrap();
            }
        }
        Self::without_org_settings(app).await
    }

    /// The harness over `app` as it is: no organisation settings until an event brings them.
    pub async fn without_org_settings(app: TestApp) -> Self {
        let channel = app.channel().await;
        Self {
            leads: LeadServiceClient::new(channel.clone()),
            admin: LeadAdminServiceClient::new(channel.clone()),
            forms: WebFormServiceClient::new(channel),
            app,
        }
    }

    pub fn auth<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        authorized(message, &self.app.token(caller))
    }

    pub async fn create(
        &self,
        caller: &Caller,
        input: pb::LeadInput,
    ) -> Result<pb::CreateLeadResponse, tonic::Status> {
        self.leads
            .clone()
            .create_lead(self.auth(
                caller,
                pb::CreateLeadRequest {
                    lead: Some(input),
                    lead_id: String::new(),
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    pub async fn lead(&self, caller: &Caller, id: &str) -> Result<pb::Lead, tonic::Status> {
        self.leads
            .clone()
            .get_lead(self.auth(caller, pb::GetLeadRequest { lead_id: id.into() }))
            .await
            .map(|r| r.into_inner().lead.unwrap())
    }

    pub async fn put_rep(
        &self,
        admin: &Caller,
        rep: &Caller,
        name: &str,
        stage: common::LifecycleStage,
        started_on: &str,
        claim_cap: u32,
    ) {
        self.admin
            .clone()
            .put_rep(self.auth(
                admin,
                pb::PutRepRequest {
                    rep: Some(pb::Rep {
                        rep_id: rep.user_id.to_string(),
                        team_path: rep.team_path.to_string(),
                        display_name: name.into(),
                        stage: stage as i32,
                        started_on: started_on.into(),
                        capacity: 50,
                        claim_cap,
                        active: true,
                        open_leads: 0,
                    }),
                },
            ))
            .await
            .unwrap();
    }

    pub async fn count(&self, service: &str, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.app.pool(service))
            .await
            .unwrap()
    }

    pub async fn history_kinds(&self, caller: &Caller, id: &str) -> Vec<String> {
        self.leads
            .clone()
            .get_lead_history(self.auth(caller, pb::GetLeadHistoryRequest { lead_id: id.into() }))
            .await
            .unwrap()
            .into_inner()
            .entries
            .into_iter()
            .map(|entry| entry.kind)
            .collect()
    }
}

pub fn li_wei() -> pb::LeadInput {
    pb::LeadInput {
        first_name: "Wei".into(),
        last_name: "Li".into(),
        email: "li.wei@contoso.cn".into(),
        phone: "+86 138 0013 8000".into(),
        company: "Contoso Ltd".into(),
        title: "Head of Automation".into(),
        industry: "Manufacturing".into(),
        territory: "East".into(),
        company_size: common::CompanySize::Large as i32,
        ..Default::default()
    }
}
