//! Following a producer's stream without a durable consumer: for state a process keeps for
//! itself and saves with the stream sequence it reached (the knowledge service's search index,
//! one per replica), so each replica reads every event and nothing is shared or acknowledged.

use async_nats::jetstream::{
    self,
    consumer::{DeliverPolicy, pull},
};
use futures::StreamExt;

use crate::{
    consumer::{ReceivedEvent, received},
    events::EventNaming,
};

/// An event read by [`follow`], with its place in the stream.
#[derive(Clone, Debug)]
pub struct Followed {
    pub sequence: u64,
    pub event: ReceivedEvent,
}

/// The first and last sequence `producer`'s stream holds now (`first > last` when it holds
/// nothing: JetStream's own convention), created by the producer or not yet (`None`).
pub async fn stream_bounds(
    jetstream: &jetstream::Context,
    naming: &EventNaming,
    producer: &str,
) -> anyhow::Result<Option<(u64, u64)>> {
    let stream_name = naming.stream(producer);
    let mut stream = match jetstream.get_stream(&stream_name).await {
        Ok(stream) => stream,
        Err(error)
            if matches!(
                error.kind(),
                jetstream::context::GetStreamErrorKind::JetStream(inner)
                    if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            ) =>
        {
            return Ok(None);
        }
        Err(error) => anyhow::bail!("stream {stream_name} is not available: {error}"),
    };
    let info = stream
        .info()
        .await
        .map_err(|error| anyhow::anyhow!("stream {stream_name}: {error}"))?;
    Ok(Some((info.state.first_sequence, info.state.last_sequence)))
}

/// Every event of `producer`'s stream from sequence `from` on, in order, as it is published:
/// an ephemeral ordered consumer that records nothing and acknowledges nothing, for state a
/// process keeps for itself and saves with the sequence it reached (the knowledge service's
/// search index, one per replica). The stream ends only with an error (the stream deleted, the
/// server gone for good); a message without the outbox's headers is skipped with a warning.
pub async fn follow(
    jetstream: &jetstream::Context,
    naming: &EventNaming,
    producer: &str,
    from: u64,
) -> anyhow::Result<impl futures::Stream<Item = anyhow::Result<Followed>> + use<>> {
    let stream_name = naming.stream(producer);
    let stream = jetstream
        .get_stream(&stream_name)
        .await
        .map_err(|error| anyhow::anyhow!("stream {stream_name} is not available: {error}"))?;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: naming.producer_subjects(producer),
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: from.max(1),
            },
            ..Default::default()
        })
        .await
        .map_err(|error| anyhow::anyhow!("following {stream_name}: {error}"))?;
    let messages = consumer
        .messages()
        .await
        .map_err(|error| anyhow::anyhow!("following {stream_name}: {error}"))?;
    let naming = naming.clone();
    Ok(messages.filter_map(move |message| {
        let followed = match message {
            Err(error) => Some(Err(anyhow::anyhow!("following {stream_name}: {error}"))),
            Ok(message) => match (message.info(), received(&naming, &message, 1)) {
                (Ok(info), Ok(event)) => Some(Ok(Followed {
                    sequence: info.stream_sequence,
                    event,
                })),
                (_, Err(error)) => {
                    tracing::warn!(stream = %stream_name, error = %error, "followed a message that is not an event; skipped");
                    None
                }
                (Err(error), _) => Some(Err(anyhow::anyhow!("following {stream_name}: {error}"))),
            },
        };
        std::future::ready(followed)
    }))
}
