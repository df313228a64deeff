//! The exact batch verifier must give `verify_strict`'s verdict for every
//! signature, whatever the mix. Each 4-byte input chunk `[kind, a, b, c]`
//! makes one signature: valid (by one of 8 keys), with a byte flipped or
//! set, under a wrong message, with a mixed-order `R` and an honestly
//! computed `S`, with `S + ℓ`, or with a small-order key.
#![no_main]
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use forewarn_ed25519::testkit::mixed_order_signature;
use forewarn_ed25519::{
    KeyCache, SignatureItem, VerifyMode, verify_exact_batch, verify_exact_batch_parallel, verify_items,
};
use libfuzzer_sys::fuzz_target;

const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fuzz_target!(|data: &[u8]| {
    let mut owned: Vec<([u8; 32], Vec<u8>, [u8; 64])> = Vec::new();
    for (i, c) in data.chunks_exact(4).take(600).enumerate() {
        let (kind, a, b, v) = (c[0], c[1], c[2], c[3]);
        let key = SigningKey::from_bytes(&[a % 8 + 1; 32]);
        let mut msg = format!("m{i}").into_bytes();
        let mut pk = key.verifying_key().to_bytes();
        let mut sig = key.sign(&msg).to_bytes();
        match kind % 8 {
            0..=2 => {}
            3 => sig[b as usize % 64] ^= v | 1,
            4 => msg.push(v),
            5 => (pk, sig) = mixed_order_signature(&msg, a),
            6 => {
                let mut carry = 0u16;
                for (byte, l) in sig[32..].iter_mut().zip(L) {
                    let t = *byte as u16 + l as u16 + carry;
                    *byte = t as u8;
                    carry = t >> 8;
                }
            }
            _ => {
                // A small-order or arbitrary key.
                pk = [v; 32];
                pk[0] = b;
            }
        }
        owned.push((pk, msg, sig));
    }
    let items: Vec<SignatureItem<'_>> = owned
        .iter()
        .map(|(k, m, s)| SignatureItem { key: *k, prefix: b"", body: m, signature: *s })
        .collect();
    let strict = verify_items(&items, VerifyMode::Strict, &mut KeyCache::new());
    for (it, ok) in items.iter().zip(&strict) {
        let reference = VerifyingKey::from_bytes(&it.key).is_ok_and(|k| {
            k.verify_strict(it.body, &ed25519_dalek::Signature::from_bytes(&it.signature)).is_ok()
        });
        assert_eq!(*ok, reference);
    }
    assert_eq!(verify_exact_batch(&items, &mut KeyCache::new()), strict);
    assert_eq!(verify_items(&items, VerifyMode::Batch, &mut KeyCache::new()), strict);
    // One batch shared by two threads.
    let mut caches = [KeyCache::new(), KeyCache::new()];
    assert_eq!(verify_exact_batch_parallel(&items, &mut caches), strict);
});
