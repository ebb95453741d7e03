//! Property tests: sign-then-verify round trips with random keys, parameters and headers; any
//! single-character change of a signed value breaks verification; the percent-encoder matches
//! the RFC 3986 definition; query decoding inverts encoding.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use rolestack_sign::aws_chunked::{encode_signed, ChunkDecoder};
use rolestack_sign::encoding::{decode_form, encode, encode_path};
use rolestack_sign::oss::{OssAuth, OssRequest};
use rolestack_sign::s3::{AwsAuth, BodyCheck, S3Request};
use rolestack_sign::{acs3, aws_v2, aws_v4, oss_v1, oss_v4, rpc_v1, SignatureError};

/// RFC 3986 §2.3 unreserved characters stay; every other UTF-8 byte is `%XX`, upper-case hex.
fn reference_encode(s: &str, keep_slash: bool) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Replaces the character at `at` (modulo length) with a different one; appends to empty strings.
fn change_one_char(s: &str, at: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return "x".to_string();
    }
    let i = at % chars.len();
    let mut out = chars.clone();
    out[i] = if chars[i] == 'a' { 'b' } else { 'a' };
    out.into_iter().collect()
}

fn owned(map: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/=]{1,40}"
}

/// Any Unicode text, including the characters the encoders treat specially.
fn value() -> impl Strategy<Value = String> {
    prop_oneof!["\\PC{0,20}", "[ a-z+*~/%=&?:]{0,12}"]
}

/// HTTP header values: visible ASCII and inner spaces.
fn header_value() -> impl Strategy<Value = String> {
    "[!-~]([ -~]{0,18}[!-~])?"
}

proptest! {
    #[test]
    fn encoder_matches_rfc3986_definition(s in "\\PC{0,40}") {
        prop_assert_eq!(encode(&s), reference_encode(&s, false));
        prop_assert_eq!(encode_path(&s), reference_encode(&s, true));
    }

    #[test]
    fn form_decoding_inverts_encoding(pairs in vec(("\\PC{1,10}", value()), 0..6)) {
        let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let decoded = decode_form(&raw.join("&"));
        prop_assert_eq!(decoded, pairs);
    }

    #[test]
    fn rpc_v1_round_trip_and_tamper(
        key in secret(),
        method in prop_oneof![Just("GET"), Just("POST")],
        params in btree_map("P[A-Za-z0-9.]{0,10}", value(), 1..8),
        pick in any::<usize>(),
        at in any::<usize>(),
    ) {
        let mut list = owned(&params);
        let signature = rpc_v1::sign(&key, method, &list);
        list.push(("Signature".to_string(), signature));
        // Through the wire and back, as the server sees it.
        let wire: Vec<String> = list.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let received = decode_form(&wire.join("&"));
        prop_assert_eq!(rpc_v1::verify(&key, method, &received), Ok(()));

        let i = pick % params.len();
        let mut tampered = list.clone();
        tampered[i].1 = change_one_char(&tampered[i].1, at);
        let is_mismatch = matches!(rpc_v1::verify(&key, method, &tampered), Err(SignatureError::Mismatch { .. }));
        prop_assert!(is_mismatch);
        prop_assert!(rpc_v1::verify(&format!("{key}x"), method, &list).is_err(), "a changed request still verified");
    }

    #[test]
    fn acs3_round_trip_and_tamper(
        key in secret(),
        query in btree_map("[A-Za-z][A-Za-z0-9.]{0,10}", value(), 0..6),
        extra in btree_map("(x-acs-)?[a-z][a-z0-9-]{0,10}", header_value(), 0..5),
        body in vec(any::<u8>(), 0..64),
        pick in any::<usize>(),
        at in any::<usize>(),
    ) {
        let query = owned(&query);
        let mut headers = vec![
            ("host".to_string(), "127.0.0.1:8080".to_string()),
            ("x-acs-action".to_string(), "CreateRole".to_string()),
            ("x-acs-content-sha256".to_string(), acs3::content_sha256(&body)),
        ];
        let fixed: Vec<String> = headers.iter().map(|(h, _)| h.clone()).collect();
        headers.extend(owned(&extra).into_iter().filter(|(k, _)| !fixed.contains(k)));
        let request = acs3::Request { method: "POST", path: "/", query: &query, headers: &headers, body: &body };
        let auth = acs3::Authorization::parse(&acs3::sign("ak", &key, &request)).unwrap();
        prop_assert_eq!(acs3::verify(&key, &auth, &request), Ok(()));
        prop_assert!(acs3::verify(&format!("{key}x"), &auth, &request).is_err(), "a changed request still verified");

        // Change one header value (never the body hash: that is a different error).
        let signable: Vec<usize> = (0..headers.len()).filter(|&i| headers[i].0 != "x-acs-content-sha256").collect();
        let i = signable[pick % signable.len()];
        let mut changed = headers.clone();
        changed[i].1 = change_one_char(&changed[i].1, at);
        let request2 = acs3::Request { headers: &changed, ..request };
        let is_mismatch = matches!(acs3::verify(&key, &auth, &request2), Err(SignatureError::Mismatch { .. }));
        prop_assert!(is_mismatch);

        if !query.is_empty() {
            let mut changed = query.clone();
            let i = pick % changed.len();
            changed[i].1 = change_one_char(&changed[i].1, at);
            let request3 = acs3::Request { query: &changed, ..request };
            prop_assert!(acs3::verify(&key, &auth, &request3).is_err(), "a changed request still verified");
        }
    }

    #[test]
    fn oss_v1_header_round_trip_and_tamper(
        key in secret(),
        object in "[a-zA-Z0-9/ +~=%ü-]{1,20}",
        meta in btree_map("x-oss-meta-[a-z]{1,6}", header_value(), 1..4),
        upload_id in "[A-Za-z0-9+/ =]{0,12}",
        at in any::<usize>(),
    ) {
        let mut headers = vec![
            ("Date".to_string(), "Mon, 01 Jan 2024 00:00:00 GMT".to_string()),
            ("Content-Type".to_string(), "text/plain".to_string()),
        ];
        headers.extend(owned(&meta));
        let query = vec![("uploadId".to_string(), upload_id.clone()), ("prefix".to_string(), "p".to_string())];
        let request = OssRequest { method: "PUT", bucket: Some("bkt"), key: &object, query: &query, headers: &headers };
        let value = oss_v1::sign_header("ak", &key, &request);
        headers.push(("Authorization".to_string(), value));
        let request = OssRequest { method: "PUT", bucket: Some("bkt"), key: &object, query: &query, headers: &headers };
        let auth = OssAuth::from_request(&request).unwrap().unwrap();
        prop_assert_eq!(auth.verify(&key, &request, 0), Ok(()));

        let other_key = change_one_char(&object, at);
        prop_assert!(auth.verify(&key, &OssRequest { key: &other_key, ..request }, 0).is_err(), "a changed request still verified");
        let other_query = vec![("uploadId".to_string(), change_one_char(&upload_id, at))];
        prop_assert!(auth.verify(&key, &OssRequest { query: &other_query, ..request }, 0).is_err(), "a changed request still verified");
        let mut other_headers = headers.clone();
        other_headers[2].1 = change_one_char(&other_headers[2].1, at);
        prop_assert!(auth.verify(&key, &OssRequest { headers: &other_headers, ..request }, 0).is_err(), "a changed request still verified");
    }

    #[test]
    fn oss_v4_header_and_presign_round_trip_and_tamper(
        key in secret(),
        region in "[a-z]{2}-[a-z]{3,8}(-[0-9])?",
        object in "[a-zA-Z0-9/ +~=%ü-]{1,20}",
        query in btree_map("[a-z][a-z0-9-]{0,8}", value(), 0..4),
        unix in 0i64..4_102_444_800,
        expires_in in 1i64..604_800,
        at in any::<usize>(),
    ) {
        let date_time = oss_v4::format_date_time(unix);
        prop_assert_eq!(oss_v4::parse_date_time(&date_time), Some(unix));
        let query = owned(&query);
        let mut headers = vec![
            ("x-oss-date".to_string(), date_time.clone()),
            ("x-oss-content-sha256".to_string(), oss_v4::UNSIGNED_PAYLOAD.to_string()),
            ("Host".to_string(), "127.0.0.1:9000".to_string()),
            ("Content-Type".to_string(), "text/plain".to_string()),
        ];
        let request = OssRequest { method: "GET", bucket: Some("bkt"), key: &object, query: &query, headers: &headers };
        let value = oss_v4::sign_header("ak", &key, &region, &request, &["host"]);
        headers.push(("Authorization".to_string(), value));
        let request = OssRequest { method: "GET", bucket: Some("bkt"), key: &object, query: &query, headers: &headers };
        let auth = OssAuth::from_request(&request).unwrap().unwrap();
        prop_assert_eq!(auth.verify(&key, &request, unix), Ok(()));
        let other_key = change_one_char(&object, at);
        prop_assert!(auth.verify(&key, &OssRequest { key: &other_key, ..request }, unix).is_err(), "a changed request still verified");
        let mut other_headers = headers.clone();
        other_headers[2].1 = change_one_char(&other_headers[2].1, at); // the additional header `host`
        prop_assert!(auth.verify(&key, &OssRequest { headers: &other_headers, ..request }, unix).is_err(), "a changed request still verified");

        // Presigned form of the same request.
        let plain = &headers[2..4];
        let unsigned = OssRequest { headers: plain, ..request };
        let mut full = query.clone();
        full.extend(oss_v4::presign("ak", &key, &region, &date_time, expires_in, &unsigned, &["host"]));
        let presigned = OssRequest { query: &full, ..unsigned };
        let auth = OssAuth::from_request(&presigned).unwrap().unwrap();
        prop_assert_eq!(auth.verify(&key, &presigned, unix + expires_in), Ok(()));
        let is_expired = matches!(auth.verify(&key, &presigned, unix + expires_in + 1), Err(SignatureError::Expired { .. }));
        prop_assert!(is_expired);
        if !query.is_empty() {
            let mut changed = full.clone();
            let i = at % query.len();
            changed[i].1 = change_one_char(&changed[i].1, at);
            prop_assert!(auth.verify(&key, &OssRequest { query: &changed, ..presigned }, unix).is_err(), "a changed request still verified");
        }
    }

    #[test]
    fn aws_v4_header_presign_and_chunks_round_trip_and_tamper(
        key in secret(),
        region in "[a-z]{2}-[a-z]{3,8}(-[0-9])?",
        path in "/[a-zA-Z0-9%/~._-]{0,20}",
        query in btree_map("[a-z][a-z0-9-]{0,8}", value(), 0..4),
        unix in 0i64..4_102_444_800,
        expires_in in 1i64..604_800,
        data in vec(any::<u8>(), 0..300),
        chunk in 1usize..64,
        split in 1usize..50,
        at in any::<usize>(),
    ) {
        let date_time = aws_v4::format_date_time(unix);
        let query = owned(&query);
        let mut headers = vec![
            ("x-amz-date".to_string(), date_time.clone()),
            ("x-amz-content-sha256".to_string(), aws_v4::STREAMING_SIGNED.to_string()),
            ("Host".to_string(), "127.0.0.1:9000".to_string()),
            ("X-Amz-Meta-K".to_string(), "v".to_string()),
        ];
        let request = S3Request { method: "PUT", raw_path: &path, query: &query, headers: &headers };
        let value = aws_v4::sign_header("ak", &key, &region, &request, &["host", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-k"]).unwrap();
        headers.push(("Authorization".to_string(), value));
        let request = S3Request { method: "PUT", raw_path: &path, query: &query, headers: &headers };
        let auth = AwsAuth::from_request(&request).unwrap().unwrap();
        let verified = match auth.verify(&key, &request, None, unix) {
            Ok(BodyCheck::V4(v)) => v,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        let other_path = change_one_char(&path, at);
        prop_assert!(auth.verify(&key, &S3Request { raw_path: &other_path, ..request }, None, unix).is_err(), "a changed request still verified");
        let mut other_headers = headers.clone();
        other_headers[3].1 = change_one_char(&other_headers[3].1, at);
        prop_assert!(auth.verify(&key, &S3Request { headers: &other_headers, ..request }, None, unix).is_err(), "a changed request still verified");

        // The body in chunks, fed in pieces of any size, decodes to the data; a changed byte does not.
        let body = encode_signed(&verified, &data, chunk);
        let mut decoder = ChunkDecoder::new(&verified, true, false);
        let mut out = Vec::new();
        for piece in body.chunks(split) {
            decoder.push(piece, &mut out).unwrap();
        }
        prop_assert!(decoder.finish().is_ok());
        prop_assert_eq!(&out, &data);
        if !data.is_empty() {
            let mut tampered = body.clone();
            let first_data = tampered.iter().position(|&b| b == b'\n').unwrap() + 1;
            tampered[first_data] ^= 1;
            let mut decoder = ChunkDecoder::new(&verified, true, false);
            let result = decoder.push(&tampered, &mut Vec::new()).and_then(|()| decoder.finish());
            prop_assert!(result.is_err(), "a changed chunk still decoded");
        }

        // Presigned form.
        let plain = &headers[2..3];
        let unsigned = S3Request { headers: plain, ..request };
        let mut full = query.clone();
        full.extend(aws_v4::presign("ak", &key, &region, &date_time, expires_in, &unsigned, &["host"]).unwrap());
        let presigned = S3Request { query: &full, ..unsigned };
        let auth = AwsAuth::from_request(&presigned).unwrap().unwrap();
        prop_assert!(auth.verify(&key, &presigned, None, unix + expires_in).is_ok());
        let is_expired = matches!(auth.verify(&key, &presigned, None, unix + expires_in + 1), Err(SignatureError::Expired { .. }));
        prop_assert!(is_expired);
        if !query.is_empty() {
            let mut changed = full.clone();
            let i = at % query.len();
            changed[i].1 = change_one_char(&changed[i].1, at);
            prop_assert!(auth.verify(&key, &S3Request { query: &changed, ..presigned }, None, unix).is_err(), "a changed request still verified");
        }
    }

    #[test]
    fn aws_v2_header_and_presign_round_trip_and_tamper(
        key in secret(),
        path in "/[a-zA-Z0-9%/~._-]{0,20}",
        bucket in prop_oneof![Just(None), Just(Some("bkt"))],
        sub in prop_oneof![Just("acl"), Just("uploadId"), Just("versionId"), Just("max-keys")],
        sub_value in "[a-zA-Z0-9]{0,6}",
        meta in header_value(),
        expires in 0i64..4_102_444_800,
        at in any::<usize>(),
    ) {
        let query = vec![(sub.to_string(), sub_value.clone())];
        let mut headers = vec![
            ("Date".to_string(), "Tue, 27 Mar 2007 19:36:42 +0000".to_string()),
            ("x-amz-meta-k".to_string(), meta.clone()),
            ("Content-Type".to_string(), "text/plain".to_string()),
        ];
        let request = S3Request { method: "PUT", raw_path: &path, query: &query, headers: &headers };
        let value = aws_v2::sign_header("ak", &key, &request, bucket);
        headers.push(("Authorization".to_string(), value));
        let request = S3Request { method: "PUT", raw_path: &path, query: &query, headers: &headers };
        let auth = AwsAuth::from_request(&request).unwrap().unwrap();
        prop_assert_eq!(auth.verify(&key, &request, bucket, 0), Ok(BodyCheck::None));
        let other_path = change_one_char(&path, at);
        prop_assert!(auth.verify(&key, &S3Request { raw_path: &other_path, ..request }, bucket, 0).is_err(), "a changed request still verified");
        let mut other_headers = headers.clone();
        other_headers[1].1 = change_one_char(&meta, at);
        prop_assert!(auth.verify(&key, &S3Request { headers: &other_headers, ..request }, bucket, 0).is_err(), "a changed request still verified");
        if sub != "max-keys" {
            let changed = vec![(sub.to_string(), change_one_char(&sub_value, at))];
            prop_assert!(auth.verify(&key, &S3Request { query: &changed, ..request }, bucket, 0).is_err(), "a changed sub-resource still verified");
        }

        let unsigned = S3Request { headers: &headers[2..3], ..request };
        let mut full = query.clone();
        full.extend(aws_v2::presign("ak", &key, expires, &unsigned, bucket));
        let presigned = S3Request { query: &full, ..unsigned };
        let auth = AwsAuth::from_request(&presigned).unwrap().unwrap();
        prop_assert!(auth.verify(&key, &presigned, bucket, expires).is_ok());
        let is_expired = matches!(auth.verify(&key, &presigned, bucket, expires + 1), Err(SignatureError::Expired { .. }));
        prop_assert!(is_expired);
    }
}
