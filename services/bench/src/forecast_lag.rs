//! The forecast scenario's event lag: `rate × duration` amount changes of distinct deals, each
//! committed in its own transaction through the opportunities outbox, timed from the commit to
//! the moment the read model holds the new version and, beside it, to the moment a plain
//! subscriber reads the event from JetStream (the transport alone).

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use chrono::NaiveDate;
use crm_platform::outbox::Aggregate;
use crm_proto::crm::opportunities::v1::OpportunityAmountChanged;
use futures::StreamExt;
use prost::Message;
use tokio::time::Instant;
use uuid::Uuid;

use crate::{
    forecast::ForecastOptions,
    forecast_data::{self, deal, deal_id},
    measure::{self, Arrivals, Latencies, Schedule},
    opportunities::{Hosted, Person},
};

/// The most changes one look of the lag run's probe asks the read model for, and how far past
/// the oldest unseen change it looks for them (two seconds of changes at 1,000 a second).
const POLL_WINDOW: usize = 256;
const POLL_SCAN: usize = 2_048;

/// How many changes the lag run commits: `rate × duration`, at least one.
pub fn changes(options: ForecastOptions) -> usize {
    ((options.rate * options.duration.as_secs_f64()).round() as usize).max(1)
}

/// Commit → read model and commit → JetStream latencies of `rate × duration` amount changes.
pub async fn event_lag(
    hosted: &Hosted,
    reps: &[Person],
    year_start: NaiveDate,
    options: ForecastOptions,
) -> anyhow::Result<(Latencies, Latencies)> {
    let opportunities = hosted.context(crm_opportunities::NAME)?;
    let total = changes(options);
    // Distinct deals, spread over the data set.
    let step = (options.deals / total).max(1);
    let deals = options.deals;
    let deal_of = move |seq: usize| (seq * step) % deals;
    let seq_of: Arc<HashMap<Uuid, usize>> =
        Arc::new((0..total).map(|seq| (deal_id(deal_of(seq)), seq)).collect());
    let schedule = Schedule::new(options.rate, total, Duration::from_millis(500));
    let committed = Arc::new(Arrivals::new(schedule.start, total));
    let in_model = Arc::new(Arrivals::new(schedule.start, total));
    let in_stream = Arc::new(Arrivals::new(schedule.start, total));

    // The transport alone: a plain subscriber to the stream's amount changes.
    let stream = opportunities
        .jetstream
        .get_stream(opportunities.naming.stream(crm_opportunities::NAME))
        .await?;
    let subscriber = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: opportunities
                .naming
                .subject("crm.opportunities.v1.opportunity_amount_changed"),
            deliver_policy: DeliverPolicy::New,
            ..Default::default()
        })
        .await?;
    let mut messages = subscriber.messages().await?;
    let (stream_seen, stream_seqs) = (in_stream.clone(), seq_of.clone());
    let watcher = tokio::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            let Ok(event) = OpportunityAmountChanged::decode(message.payload.clone()) else {
                continue;
            };
            let id = event
                .opportunity
                .and_then(|deal| deal.id.parse::<Uuid>().ok());
            if let Some(seq) = id.and_then(|id| stream_seqs.get(&id).copied()) {
                stream_seen.record(seq);
            }
        }
    });
    // The read model, polled for the deals whose change is committed and not yet seen.
    let pool = hosted.baseline_pool_of(crm_forecasting::NAME, 1).await?;
    let (model_seen, model_committed) = (in_model.clone(), committed.clone());
    let poller = tokio::spawn(async move {
        // Every change below `floor` is seen. Each look asks for the oldest committed changes
        // not yet seen, at most POLL_WINDOW of them: the changes are applied in about the order
        // they were committed, so the newer ones are asked for as the older ones arrive. A look
        // at every pending change made the probe's own cost grow with the backlog it measures
        // (thousands of ids a look, 500 looks a second), taking the machine from the services.
        let mut floor = 0;
        loop {
            while floor < total && model_seen.at(floor).is_some() {
                floor += 1;
            }
            let pending: Vec<Uuid> = (floor..total)
                .take(POLL_SCAN)
                .filter(|&seq| model_committed.at(seq).is_some() && model_seen.at(seq).is_none())
                .take(POLL_WINDOW)
                .map(|seq| deal_id(deal_of(seq)))
                .collect();
            if !pending.is_empty() {
                let seen: Vec<Uuid> =
                    sqlx::query_scalar("SELECT id FROM deals WHERE id = ANY($1) AND version >= 2")
                        .bind(&pending)
                        .fetch_all(&pool)
                        .await
                        .unwrap_or_default();
                for id in seen {
                    if let Some(&seq) = seq_of.get(&id) {
                        model_seen.record(seq);
                    }
                }
            }
            if model_seen.received() >= total {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let outcome = measure::open_loop(schedule, |seq| {
        let (pool, outbox, committed) = (
            opportunities.pool.clone(),
            opportunities.outbox.clone(),
            committed.clone(),
        );
        let changed = forecast_data::amount_changed(deal(deal_of(seq), reps, year_start, 2, 1_000));
        async move {
            let id = changed
                .opportunity
                .as_ref()
                .map(|deal| deal.id.clone())
                .unwrap_or_default();
            let mut transaction = pool.begin().await?;
            let aggregate = Aggregate {
                kind: "opportunity",
                id: &id,
                version: 2,
            };
            outbox
                .enqueue(&mut transaction, aggregate, &changed)
                .await?;
            outbox.commit(transaction).await?;
            committed.record(seq);
            Ok(())
        }
    })
    .await;
    anyhow::ensure!(
        outcome.errors == 0,
        "{} of {total} changes failed: {}",
        outcome.errors,
        outcome.first_error.unwrap_or_default()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    in_model.wait_all(deadline).await;
    in_stream.wait_all(deadline).await;
    poller.abort();
    watcher.abort();
    let model = Latencies::between(0..total, |seq| committed.at(seq), |seq| in_model.at(seq));
    let transport = Latencies::between(0..total, |seq| committed.at(seq), |seq| in_stream.at(seq));
    Ok((model, transport))
}
