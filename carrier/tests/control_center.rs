//! The Control Center adapter on recorded response bodies (tests/fixtures): requests built,
//! bodies read, statuses mapped to errors that say what to do.

use simopt_carrier::adapter::{Carrier, DeviceDetails, DeviceSummary, DeviceUsage};
use simopt_carrier::control_center::{format_date, parse_date};
use simopt_carrier::{Account, CarrierError, ControlCenter, HttpResponse, Method};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ok(name: &str) -> HttpResponse {
    HttpResponse::new(200, fixture(name))
}

fn cc() -> ControlCenter {
    ControlCenter::new(
        Account::new("https://controlcenter.example/", "api-user", "s3cret")
            .expect("a valid account"),
    )
}

const ICCID: &str = "8988216716970004975";

#[test]
fn requests_have_the_documented_paths_and_basic_auth() {
    let cc = cc();
    let since = parse_date("2026-11-01T00:00:00Z").unwrap();
    let list = cc.list_devices(Some(since), 2);
    assert_eq!(list.method, Method::Get);
    assert_eq!(
        list.url,
        "https://controlcenter.example/rws/api/v1/devices?modifiedSince=2026-11-01T00%3A00%3A00%2B00%3A00&pageSize=50&pageNumber=2"
    );
    // base64("api-user:s3cret")
    assert_eq!(
        list.header("authorization"),
        Some("Basic YXBpLXVzZXI6czNjcmV0")
    );
    assert_eq!(list.header("accept"), Some("application/json"));
    assert!(cc
        .list_devices(None, 1)
        .url
        .contains("modifiedSince=2000-01-01T00%3A00%3A00%2B00%3A00"));

    assert_eq!(
        cc.device_details(ICCID).url,
        format!("https://controlcenter.example/rws/api/v1/devices/{ICCID}")
    );
    assert_eq!(
        cc.device_usage(ICCID).url,
        format!("https://controlcenter.example/rws/api/v1/devices/{ICCID}/ctdUsages")
    );
    assert_eq!(
        cc.rate_plans(1).url,
        "https://controlcenter.example/rws/api/v1/rateplans?pageSize=50&pageNumber=1"
    );

    let change = cc.change_rate_plan(ICCID, "IoT 1MB", None);
    assert_eq!(change.method, Method::Put);
    assert_eq!(change.body.as_deref(), Some(r#"{"ratePlan":"IoT 1MB"}"#));
    assert_eq!(change.header("content-type"), Some("application/json"));
    let later = cc.change_rate_plan(ICCID, "IoT 1MB", Some(since));
    assert_eq!(
        later.body.as_deref(),
        Some(r#"{"effectiveDate":"2026-11-01T00:00:00+00:00","ratePlan":"IoT 1MB"}"#)
    );
}

#[test]
fn reads_pages_of_devices() {
    let cc = cc();
    let page = cc
        .parse_device_page(&ok("search-devices-page1.json"))
        .unwrap();
    assert!(!page.last_page);
    assert_eq!(
        page.devices[1],
        DeviceSummary {
            iccid: "8988216716970004976".into(),
            status: Some("DEACTIVATED".into()),
            rate_plan: Some("IoT 1MB".into()),
            communication_plan: Some("CP Data Only".into()),
        }
    );
    let last = cc
        .parse_device_page(&ok("search-devices-last.json"))
        .unwrap();
    assert!(last.last_page);
    assert_eq!(last.devices.len(), 1);
}

#[test]
fn reads_device_details_and_usage() {
    let cc = cc();
    let d = cc
        .parse_device_details(ICCID, &ok("device-details.json"))
        .unwrap();
    assert_eq!(
        d,
        DeviceDetails {
            iccid: ICCID.into(),
            msisdn: Some("882350697004975".into()),
            status: "ACTIVATED".into(),
            rate_plan: "IoT 10MB Pool".into(),
            communication_plan: "CP Data SMS".into(),
            date_activated_ms: parse_date("2026-03-14T23:30:12Z"),
            date_modified_ms: parse_date("2026-11-02T10:20:30.123Z"),
        }
    );
    let never = cc
        .parse_device_details(
            "8988216716970005001",
            &ok("device-details-never-activated.json"),
        )
        .unwrap();
    assert_eq!(never.date_activated_ms, None);
    assert_eq!(never.msisdn, None);

    let u = cc
        .parse_device_usage(ICCID, &ok("ctd-usages.json"))
        .unwrap();
    assert_eq!(
        u,
        DeviceUsage {
            iccid: ICCID.into(),
            data_bytes: 7_340_032,
            sms_count: 12,
        }
    );
}

#[test]
fn reads_rate_plans_and_change_answers() {
    let cc = cc();
    let plans = cc.parse_rate_plans(&ok("rateplans.json")).unwrap();
    assert!(plans.last_page);
    let names: Vec<&str> = plans.plans.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["IoT 1MB", "IoT 10MB Pool"]);
    assert_eq!(plans.plans[1].plan_type.as_deref(), Some("Shared"));
    assert_eq!(plans.plans[0].subscription_charge.as_deref(), Some("1.50"));
    cc.parse_change(ICCID, &ok("edit-device.json")).unwrap();
    // An answer about another device is not a confirmation.
    let e = cc
        .parse_change("8988216716970000000", &ok("edit-device.json"))
        .unwrap_err();
    assert!(e.to_string().contains("not 8988216716970000000"), "{e}");
}

#[test]
fn statuses_map_to_errors_that_say_what_to_do() {
    let cc = cc();
    let e = cc
        .parse_device_page(&HttpResponse::new(401, fixture("error-401.json")))
        .unwrap_err();
    assert_eq!(e.code(), "carrier-bad-credentials");
    assert!(
        e.to_string()
            .contains("check the API user name and API key"),
        "{e}"
    );

    let e = cc
        .parse_device_details(ICCID, &HttpResponse::new(404, fixture("error-404.json")))
        .unwrap_err();
    assert_eq!(
        e,
        CarrierError::UnknownDevice {
            iccid: ICCID.into(),
            operation: "device details".into()
        }
    );

    let e = cc
        .parse_device_usage(
            ICCID,
            &HttpResponse::new(429, "").with_header("Retry-After", "7"),
        )
        .unwrap_err();
    assert_eq!(
        e,
        CarrierError::RateLimited {
            operation: "device usage".into(),
            retry_after_ms: Some(7000)
        }
    );

    let e = cc
        .parse_rate_plans(&HttpResponse::new(503, "<html>busy</html>"))
        .unwrap_err();
    assert_eq!(e.code(), "carrier-transient");
    assert!(e.is_retryable());

    let e = cc
        .parse_change(
            ICCID,
            &HttpResponse::new(400, fixture("error-400-rate-plan.json")),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the carrier refused change rate plan (HTTP 400: Invalid rate plan. (error code \
         10000017)): check the values sent (rate plan names must match the carrier's exactly)"
    );
}

#[test]
fn malformed_bodies_name_the_field() {
    let cc = cc();
    let e = cc
        .parse_device_usage(ICCID, &ok("ctd-usages-malformed.json"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the carrier's answer to device usage is malformed at `ctdDataUsage`: expected a whole \
         number of 0 or more, found \"lots\"; the carrier's API may have changed: report it \
         with the response body"
    );
    let e = cc
        .parse_device_page(&HttpResponse::new(
            200,
            r#"{"pageNumber":1,"devices":[{"status":"ACTIVATED"}],"lastPage":true}"#,
        ))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("malformed at `devices[0].iccid`: missing"),
        "{e}"
    );
    let e = cc
        .parse_device_page(&HttpResponse::new(200, r#"{"pageNumber":1,"devices":[]}"#))
        .unwrap_err();
    assert!(e.to_string().contains("at `lastPage`: missing"), "{e}");
    let e = cc
        .parse_device_page(&HttpResponse::new(200, "<html>"))
        .unwrap_err();
    assert!(e.to_string().contains("at `(body)`: not JSON"), "{e}");
    let e = cc
        .parse_device_details(ICCID, &HttpResponse::new(200, r#"{"iccid":"8988216716970004975","status":"ACTIVATED","ratePlan":"A","communicationPlan":"C","dateActivated":"yesterday"}"#))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("at `dateActivated`: \"yesterday\" is not a date"),
        "{e}"
    );
}

#[test]
fn dates_read_both_forms_and_write_iso_8601() {
    assert_eq!(
        parse_date("2026-03-14 23:30:12.000+0000"),
        parse_date("2026-03-14T23:30:12Z")
    );
    assert_eq!(
        parse_date("2026-03-15 01:30:12+0200"),
        parse_date("2026-03-14T23:30:12+00:00")
    );
    assert_eq!(
        format_date(parse_date("2026-03-14T23:30:12.9Z").unwrap()),
        "2026-03-14T23:30:12+00:00"
    );
}

#[test]
fn accounts_refuse_plain_http_and_hide_the_key() {
    let e = Account::new("http://controlcenter.example", "u", "k").unwrap_err();
    assert_eq!(e.code(), "carrier-bad-setting");
    assert!(Account::new("http://127.0.0.1:8080", "u", "k").is_ok());
    let shown = format!(
        "{:?}",
        Account::new("https://controlcenter.example", "u", "topsecret").unwrap()
    );
    assert!(!shown.contains("topsecret"), "{shown}");
}
