//! Quotes' RPCs (`QuoteService`): requests to domain inputs, every broken field named at once,
//! as the request spells it. What the schema states (required, lengths, decimals, dates, ids)
//! is INVALID_ARGUMENT here; ranges and the book's prices are the service's refusals.

use crm_platform::{
    error::Violations,
    money::{Money, Sign},
    paging,
};
use crm_proto::crm::opportunities::v1::{self as pb, quote_service_server::QuoteService};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    deal_input::{decimal, id, reply, version},
    decisions::decision_input,
};
use crate::{
    convert::quotes::{quote as quote_message, settings as settings_message},
    domain::{
        price_book::{MAX_CODE, MAX_NAME, optional_text, required_text},
        quote::Decision,
    },
    error::OpportunitiesError,
    service::{NewQuote, Opportunities, QuoteChanges, QuoteLineDraft, QuoteSettingsChanges},
};

const MAX_LINES: usize = 200;
/// The approval queue's size when not asked, and at most.
const QUEUE_LIMIT: u32 = 50;
const MAX_QUEUE_LIMIT: u32 = 200;
const MAX_NOTES: usize = 4000;
const MAX_NOTE: usize = 1000;
const MAX_COMPANY: usize = 200;

pub(crate) struct QuotesApi {
    opportunities: Opportunities,
}

impl QuotesApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

fn optional_decimal(violations: &mut Violations, field: &str, value: &str) -> Option<Decimal> {
    match value.trim() {
        "" => None,
        value => decimal(violations, field, value),
    }
}

/// The lines as the request gives them (`field` names the list): at least one, at most
/// [`MAX_LINES`].
fn lines(
    violations: &mut Violations,
    field: &str,
    inputs: &[pb::QuoteLineInput],
) -> Vec<QuoteLineDraft> {
    if inputs.is_empty() {
        violations.add(field, "must have at least one line");
    }
    if inputs.len() > MAX_LINES {
        violations.add(field, format!("must have at most {MAX_LINES} lines"));
    }
    inputs
        .iter()
        .enumerate()
        .filter_map(|(index, input)| {
            let at = format!("{field}[{index}]");
            let code = required_text(
                violations,
                &format!("{at}.product_code"),
                &input.product_code,
                MAX_CODE,
            );
            let name = optional_text(
                violations,
                &format!("{at}.product_name"),
                &input.product_name,
                MAX_NAME,
            );
            let quantity = decimal(violations, &format!("{at}.quantity"), &input.quantity);
            let unit_price = match &input.unit_price {
                Some(price) => violations
                    .take(Money::parse(
                        &format!("{at}.unit_price"),
                        price,
                        Sign::NonNegative,
                    ))
                    .map(Some),
                None => Some(None),
            };
            let discount = match input.discount_percent.trim() {
                "" => Some(Decimal::ZERO),
                value => decimal(violations, &format!("{at}.discount_percent"), value),
            };
            let tax = match input.tax_percent.trim() {
                "" => Some(None),
                value => decimal(violations, &format!("{at}.tax_percent"), value).map(Some),
            };
            Some(QuoteLineDraft {
                product_code: code,
                product_name: name,
                quantity: quantity?,
                unit_price: unit_price?,
                discount_percent: discount?,
                tax_percent: tax?,
            })
        })
        .collect()
}

fn invalid(violations: Violations) -> Result<(), Status> {
    violations
        .into_result()
        .map_err(|violations| OpportunitiesError::from(violations).into())
}

fn quote_reply(quote: &crate::domain::quote::Quote) -> Option<pb::Quote> {
    Some(quote_message(quote))
}

#[tonic::async_trait]
impl QuoteService for QuotesApi {
    async fn create_quote(
        &self,
        request: Request<pb::CreateQuoteRequest>,
    ) -> Result<Response<pb::CreateQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let opportunity_id = violations.take(crm_platform::ids::parse_id(
            "opportunity_id",
            &request.opportunity_id,
        ));
        let lines = lines(&mut violations, "lines", &request.lines);
        let discount = optional_decimal(
            &mut violations,
            "discount_percent",
            &request.discount_percent,
        );
        let tax = optional_decimal(&mut violations, "tax_percent", &request.tax_percent);
        let price_list_id = violations.optional_id("price_list_id", &request.price_list_id);
        let valid_until = violations.optional_date("valid_until", &request.valid_until);
        let notes = optional_text(&mut violations, "notes", &request.notes, MAX_NOTES);
        let quote_id = violations.optional_id("quote_id", &request.quote_id);
        invalid(violations)?;
        let new = NewQuote {
            id: quote_id,
            opportunity_id: opportunity_id.unwrap_or_default(),
            lines,
            discount_percent: discount.unwrap_or(Decimal::ZERO),
            tax_percent: tax,
            price_list_id,
            valid_until,
            notes,
        };
        let quote = self.opportunities.create_quote(&caller, new).await?;
        Ok(Response::new(pb::CreateQuoteResponse {
            quote: quote_reply(&quote),
        }))
    }

    async fn get_quote(
        &self,
        request: Request<pb::GetQuoteRequest>,
    ) -> Result<Response<pb::GetQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let quote_id = id("quote_id", &request.get_ref().quote_id)?;
        let quote = self.opportunities.get_quote(&caller, quote_id).await?;
        Ok(Response::new(pb::GetQuoteResponse {
            quote: quote_reply(&quote),
        }))
    }

    async fn list_quotes(
        &self,
        request: Request<pb::ListQuotesRequest>,
    ) -> Result<Response<pb::ListQuotesResponse>, Status> {
        let caller = authenticated(&request)?;
        let deal_id = id("opportunity_id", &request.get_ref().opportunity_id)?;
        let quotes = self.opportunities.list_quotes(&caller, deal_id).await?;
        Ok(Response::new(pb::ListQuotesResponse {
            quotes: quotes.iter().map(quote_message).collect(),
        }))
    }

    async fn list_quotes_awaiting_approval(
        &self,
        request: Request<pb::ListQuotesAwaitingApprovalRequest>,
    ) -> Result<Response<pb::ListQuotesAwaitingApprovalResponse>, Status> {
        let caller = authenticated(&request)?;
        let mut violations = Violations::new();
        let limit = paging::limit(
            &mut violations,
            request.get_ref().limit,
            QUEUE_LIMIT,
            MAX_QUEUE_LIMIT,
        );
        violations.into_result().map_err(OpportunitiesError::from)?;
        let (quotes, more) = self
            .opportunities
            .quotes_awaiting_approval(&caller, limit)
            .await?;
        Ok(Response::new(pb::ListQuotesAwaitingApprovalResponse {
            quotes: quotes
                .iter()
                .map(|(quote, opportunity_name)| pb::QuoteAwaitingApproval {
                    quote: Some(quote_message(quote)),
                    opportunity_name: opportunity_name.clone(),
                })
                .collect(),
            more,
        }))
    }

    async fn update_quote(
        &self,
        request: Request<pb::UpdateQuoteRequest>,
    ) -> Result<Response<pb::UpdateQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let quote_id = violations.take(crm_platform::ids::parse_id("quote_id", &request.quote_id));
        let new_lines = request
            .lines
            .as_ref()
            .map(|list| lines(&mut violations, "lines.lines", &list.lines));
        let mut required_decimal = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .and_then(|value| decimal(&mut violations, field, value))
        };
        let discount = required_decimal("discount_percent", &request.discount_percent);
        let tax = required_decimal("tax_percent", &request.tax_percent);
        let valid_until = request.valid_until.as_deref().and_then(|value| {
            if value.trim().is_empty() {
                violations.add("valid_until", "must not be empty");
                None
            } else {
                violations.optional_date("valid_until", value)
            }
        });
        let notes = request
            .notes
            .as_deref()
            .map(|notes| optional_text(&mut violations, "notes", notes, MAX_NOTES));
        let expected = version(request.expected_version)?;
        invalid(violations)?;
        let changes = QuoteChanges {
            lines: new_lines,
            discount_percent: discount,
            tax_percent: tax,
            valid_until,
            notes,
        };
        let quote = self
            .opportunities
            .update_quote(&caller, quote_id.unwrap_or_default(), changes, expected)
            .await?;
        Ok(Response::new(pb::UpdateQuoteResponse {
            quote: quote_reply(&quote),
        }))
    }

    async fn submit_quote(
        &self,
        request: Request<pb::SubmitQuoteRequest>,
    ) -> Result<Response<pb::SubmitQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let quote_id = id("quote_id", &request.get_ref().quote_id)?;
        let expected = version(request.get_ref().expected_version)?;
        let quote = self
            .opportunities
            .submit_quote(&caller, quote_id, expected)
            .await?;
        Ok(Response::new(pb::SubmitQuoteResponse {
            quote: quote_reply(&quote),
        }))
    }

    async fn approve_quote_discount(
        &self,
        request: Request<pb::ApproveQuoteDiscountRequest>,
    ) -> Result<Response<pb::ApproveQuoteDiscountResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let input = decision_input(
            Decision::Approved,
            ("quote_id", &request.quote_id),
            ("note", &request.note),
            MAX_NOTE,
            request.expected_version,
        )?;
        let quote = self
            .opportunities
            .decide_quote_discount(
                &caller,
                input.id,
                input.decision,
                input.text,
                input.expected_version,
            )
            .await?;
        Ok(Response::new(pb::ApproveQuoteDiscountResponse {
            quote: quote_reply(&quote),
        }))
    }

    async fn reject_quote_discount(
        &self,
        request: Request<pb::RejectQuoteDiscountRequest>,
    ) -> Result<Response<pb::RejectQuoteDiscountResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let input = decision_input(
            Decision::Rejected,
            ("quote_id", &request.quote_id),
            ("reason", &request.reason),
            MAX_NOTE,
            request.expected_version,
        )?;
        let quote = self
            .opportunities
            .decide_quote_discount(
                &caller,
                input.id,
                input.decision,
                input.text,
                input.expected_version,
            )
            .await?;
        Ok(Response::new(pb::RejectQuoteDiscountResponse {
            quote: quote_reply(&quote),
        }))
    }

    async fn issue_quote(
        &self,
        request: Request<pb::IssueQuoteRequest>,
    ) -> Result<Response<pb::IssueQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let quote_id = id("quote_id", &request.get_ref().quote_id)?;
        let expected = version(request.get_ref().expected_version)?;
        let quote = self
            .opportunities
            .issue_quote(&caller, quote_id, expected)
            .await?;
        Ok(Response::new(pb::IssueQuoteResponse {
            quote: quote_reply(&quote),
        }))
    }

    async fn accept_quote(
        &self,
        request: Request<pb::AcceptQuoteRequest>,
    ) -> Result<Response<pb::AcceptQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let quote_id = id("quote_id", &request.get_ref().quote_id)?;
        let expected = version(request.get_ref().expected_version)?;
        let (quote, deal, pipeline, order) = self
            .opportunities
            .accept_quote(&caller, quote_id, expected)
            .await?;
        Ok(Response::new(pb::AcceptQuoteResponse {
            quote: quote_reply(&quote),
            opportunity: Some(reply(deal, &pipeline)),
            order: Some(crate::convert::orders::order(&order)),
        }))
    }

    async fn decline_quote(
        &self,
        request: Request<pb::DeclineQuoteRequest>,
    ) -> Result<Response<pb::DeclineQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let quote_id = violations.take(crm_platform::ids::parse_id("quote_id", &request.quote_id));
        let reason = optional_text(&mut violations, "reason", &request.reason, MAX_NOTE);
        invalid(violations)?;
        let expected = version(request.expected_version)?;
        let quote = self
            .opportunities
            .decline_quote(&caller, quote_id.unwrap_or_default(), reason, expected)
            .await?;
        Ok(Response::new(pb::DeclineQuoteResponse {
            quote: quote_reply(&quote),
        }))
    }

    async fn revise_quote(
        &self,
        request: Request<pb::ReviseQuoteRequest>,
    ) -> Result<Response<pb::ReviseQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let quote_id = violations.take(crm_platform::ids::parse_id("quote_id", &request.quote_id));
        let new_id = violations.optional_id("new_quote_id", &request.new_quote_id);
        invalid(violations)?;
        let expected = version(request.expected_version)?;
        let (quote, revised) = self
            .opportunities
            .revise_quote(&caller, quote_id.unwrap_or_default(), new_id, expected)
            .await?;
        Ok(Response::new(pb::ReviseQuoteResponse {
            quote: quote_reply(&quote),
            revised: quote_reply(&revised),
        }))
    }

    async fn render_quote(
        &self,
        request: Request<pb::RenderQuoteRequest>,
    ) -> Result<Response<pb::RenderQuoteResponse>, Status> {
        let caller = authenticated(&request)?;
        let quote_id = id("quote_id", &request.get_ref().quote_id)?;
        let html = self.opportunities.render_quote(&caller, quote_id).await?;
        Ok(Response::new(pb::RenderQuoteResponse { html }))
    }

    async fn get_quote_settings(
        &self,
        request: Request<pb::GetQuoteSettingsRequest>,
    ) -> Result<Response<pb::GetQuoteSettingsResponse>, Status> {
        let caller = authenticated(&request)?;
        let settings = self.opportunities.quote_settings(&caller).await?;
        Ok(Response::new(pb::GetQuoteSettingsResponse {
            settings: Some(settings_message(&settings)),
        }))
    }

    async fn update_quote_settings(
        &self,
        request: Request<pb::UpdateQuoteSettingsRequest>,
    ) -> Result<Response<pb::UpdateQuoteSettingsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let mut required_decimal = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .and_then(|value| decimal(&mut violations, field, value))
        };
        let threshold = required_decimal(
            "discount_approval_threshold_percent",
            &request.discount_approval_threshold_percent,
        );
        let tax = required_decimal("default_tax_percent", &request.default_tax_percent);
        let company = request
            .company_name
            .as_deref()
            .map(|name| optional_text(&mut violations, "company_name", name, MAX_COMPANY));
        invalid(violations)?;
        let expected = version(request.expected_version)?;
        let changes = QuoteSettingsChanges {
            discount_approval_threshold_percent: threshold,
            default_tax_percent: tax,
            company_name: company,
        };
        let settings = self
            .opportunities
            .update_quote_settings(&caller, changes, expected)
            .await?;
        Ok(Response::new(pb::UpdateQuoteSettingsResponse {
            settings: Some(settings_message(&settings)),
        }))
    }
}
