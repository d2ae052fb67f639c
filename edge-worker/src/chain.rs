//! The queue consumer: each message is one piece of a session's work ([`Work`]), handed to the
//! session's Durable Object, which decides whether it runs (see [`crate::session::admit`]) and
//! queues the next piece itself. Here a message is only acknowledged or retried:
//!
//! - the object answered (ran, ignored, busy, resent, failed): acknowledged;
//! - the object asked for a retry (the work failed, not for good yet): retried after the delay
//!   it gave (2, 4, 8 … s);
//! - the object could not be reached or threw: retried after 5 s. After the queue's
//!   `max_retries` such deliveries the message goes to the dead-letter queue, whose batches come
//!   here too: each is recorded in D1 (`dead_letters`) and its session fails with the reason.

use worker::{console_error, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

use crate::clock;
use crate::object::{DeadLetter, StepOutcome};
use crate::session::{session_object_of_unit, Step, Work};
use crate::sessions::{object_request, session_stub, unit_stub};
use crate::store::Store;

/// The dead-letter queue's name in `wrangler.toml`.
pub const DEAD_QUEUE: &str = "simopt-work-dead";
/// Seconds before a message whose object could not be reached is delivered again.
const UNREACHABLE_RETRY_SECONDS: u32 = 5;

/// Posts `body` to the internal route `path` of the object `work` is for: its unit's object
/// for a unit slice (but a dead letter, `to_session`: the unit's session object), else its
/// session's object.
async fn call_object(
    env: &Env,
    work: &Work,
    path: &str,
    body: &impl serde::Serialize,
    to_session: bool,
) -> Result<worker::Response, String> {
    let stub = match work.step {
        Step::Unit if !to_session => unit_stub(env, &work.object),
        Step::Unit => {
            let session = session_object_of_unit(&work.object).ok_or_else(|| {
                format!(
                    "the unit object name {:?} is not <account>/<period>/<session>/<unit>",
                    work.object
                )
            })?;
            session_stub(env, session)
        }
        _ => session_stub(env, &work.object),
    }
    .map_err(|e| e.to_string())?;
    stub.fetch_with_request(object_request(path, body).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())
}

/// Handles a batch of either queue.
///
/// # Errors
/// Never for a message (each is acknowledged or retried on its own); a runtime error when the
/// batch itself cannot be read.
pub async fn consume(batch: MessageBatch<serde_json::Value>, env: Env) -> worker::Result<()> {
    let dead = batch.queue() == DEAD_QUEUE;
    for message in batch.messages()? {
        let work: Work = match serde_json::from_value(message.body().clone()) {
            Ok(work) => work,
            Err(e) => {
                console_error!(
                    "queue: a message that is not work ({e}): {}",
                    message.body()
                );
                message.ack();
                continue;
            }
        };
        let result = if dead {
            bury(&env, &work).await
        } else {
            deliver(&env, &work).await
        };
        match result {
            Ok(None) => message.ack(),
            Ok(Some(delay)) => message.retry_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(delay)
                    .build(),
            ),
            Err(e) => {
                console_error!(
                    "queue: session {} {:?} slice {}: {e}",
                    work.session,
                    work.step,
                    work.slice
                );
                message.retry_with_options(
                    &QueueRetryOptionsBuilder::new()
                        .with_delay_seconds(UNREACHABLE_RETRY_SECONDS)
                        .build(),
                );
            }
        }
    }
    Ok(())
}

/// Hands `work` to its session object; `Some(delay)` when it asks for a retry.
async fn deliver(env: &Env, work: &Work) -> Result<Option<u32>, String> {
    let mut response = call_object(env, work, "/step", work, false).await?;
    if response.status_code() != 200 {
        let text = response.text().await.unwrap_or_default();
        return Err(format!(
            "the session object answered {}: {text}",
            response.status_code()
        ));
    }
    let outcome: StepOutcome = response.json().await.map_err(|e| e.to_string())?;
    Ok(match outcome {
        StepOutcome::Retry { delay_seconds } => Some(delay_seconds),
        _ => None,
    })
}

/// Records a dead letter and fails its session.
async fn bury(env: &Env, work: &Work) -> Result<Option<u32>, String> {
    let reason = format!(
        "the queue gave up on the {:?} step, slice {}, after its retries (the session object \
         could not run it); see the worker's log",
        work.step, work.slice
    )
    .to_lowercase();
    let store = Store::from_env(env).map_err(|e| e.to_string())?;
    let body = serde_json::to_string(work).unwrap_or_default();
    store
        .dead_letter(&work.session, &body, &reason, &clock::now_rfc3339())
        .await
        .map_err(|e| e.to_string())?;
    let dead = DeadLetter {
        work: work.clone(),
        reason,
    };
    call_object(env, work, "/fail", &dead, true).await?;
    Ok(None)
}
