//! The carrier crate's requests sent with the Worker's `fetch`: its sans-IO
//! [`HttpRequest`] out, an [`HttpResponse`] (or a [`TransportError`]) back, within the
//! request's timeout (an `AbortController` fired by a timer).

use futures_util::future::{select, Either};
use simopt_carrier::{HttpRequest, HttpResponse, Outgoing, TransportError, TransportErrorKind};
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

fn method(m: simopt_carrier::Method) -> Method {
    match m {
        simopt_carrier::Method::Get => Method::Get,
        simopt_carrier::Method::Put => Method::Put,
    }
}

fn request(req: &HttpRequest) -> Result<Request, TransportError> {
    let other = |e: worker::Error| TransportError::other(TransportErrorKind::Other, e.to_string());
    let headers = Headers::new();
    for (name, value) in &req.headers {
        headers.set(name, value).map_err(other)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method(req.method)).with_headers(headers);
    if let Some(body) = &req.body {
        init.with_body(Some(body.clone().into()));
    }
    Request::new_with_init(&req.url, &init).map_err(|e| {
        TransportError::other(
            TransportErrorKind::Connect,
            format!(
                "the request to {} cannot be made: {e}",
                req.path_and_query()
            ),
        )
    })
}

/// Sends `out` and reads the whole answer, or says why there is none.
pub async fn send(out: &Outgoing) -> Result<HttpResponse, TransportError> {
    let request = request(&out.request)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let timeout = Delay::from(std::time::Duration::from_millis(out.timeout_ms));
    let exchange = async {
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| TransportError::other(TransportErrorKind::Connect, e.to_string()))?;
        let status = response.status_code();
        let headers: Vec<(String, String)> = response.headers().entries().collect();
        let body = response
            .bytes()
            .await
            .map_err(|e| TransportError::other(TransportErrorKind::Other, e.to_string()))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    };
    let exchange = std::pin::pin!(exchange);
    match select(exchange, timeout).await {
        Either::Left((answer, _)) => answer,
        Either::Right(((), _)) => {
            controller.abort();
            Err(TransportError::timeout(format!(
                "no answer within {} ms",
                out.timeout_ms
            )))
        }
    }
}
