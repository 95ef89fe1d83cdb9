//! The builtin embedder against reference vectors made by an independent implementation
//! (scripts/embed_reference.py: Python tokenizers + a numpy BERT, float64) for 20 fixed texts: same
//! tokens, cosine ≥ 0.999 alone and in one padded batch. Needs the model files (scripts/models.sh).

use analytics_embed::{cosine, default_dir, EmbedError, Embedder, DIMENSIONS};
use serde_json::Value;

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/embed/reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

#[test]
fn embeddings_match_the_reference_alone_and_in_a_batch() {
    let e = Embedder::load(&default_dir(), 1).unwrap_or_else(|err| panic!("{err} ({})", err.hint().unwrap_or_default()));
    let r = reference();
    let sentences = r["sentences"].as_array().unwrap();
    assert_eq!(sentences.len(), 20);
    let texts: Vec<&str> = sentences.iter().map(|s| s["text"].as_str().unwrap()).collect();
    let batch = e.embed(&texts).unwrap();
    // Sorted by length, 3 at a time, and put back in order.
    let mut calls = 0;
    let many = e.embed_many(&texts, 3, || calls += 1).unwrap();
    assert_eq!(calls, texts.len().div_ceil(3));
    let mut worst_alone = 1f64;
    let mut worst_batch = 1f64;
    for (i, s) in sentences.iter().enumerate() {
        let want = floats(&s["embedding"]);
        let ids: Vec<u32> = s["ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
        assert_eq!(e.tokens(texts[i]).unwrap(), ids, "tokens of {:?}", texts[i]);
        let alone = e.embed(&[texts[i]]).unwrap().remove(0);
        assert_eq!(alone.len(), DIMENSIONS);
        let norm: f64 = alone.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
        worst_alone = worst_alone.min(cosine(&alone, &want));
        worst_batch = worst_batch.min(cosine(&batch[i], &want));
        // Padding is masked: the same text gives the same vector in a batch of longer texts.
        assert!(cosine(&alone, &batch[i]) > 0.99999, "{:?}: batch differs from alone", texts[i]);
        assert!(cosine(&alone, &many[i]) > 0.99999, "{:?}: embed_many differs from alone", texts[i]);
    }
    println!("cosine to the reference, worst of 20: alone 1 - {:.1e}, in a batch 1 - {:.1e}", 1.0 - worst_alone, 1.0 - worst_batch);
    assert!(worst_alone >= 0.999 && worst_batch >= 0.999, "alone {worst_alone}, batch {worst_batch}");
    // Meaning, not shared words: the SSO pair is closer than the SSO text and dark mode.
    assert!(cosine(&batch[0], &batch[1]) > cosine(&batch[0], &batch[2]) + 0.3);
}

#[test]
fn a_long_text_is_cut_at_the_limit() {
    let e = Embedder::load(&default_dir(), 1).unwrap();
    let long = "word ".repeat(1000);
    assert_eq!(e.tokens(&long).unwrap().len(), analytics_embed::MAX_TOKENS);
    assert_eq!(e.embed(&[long.as_str()]).unwrap()[0].len(), DIMENSIONS);
    assert!(e.embed(&[]).unwrap().is_empty());
}

#[test]
fn missing_files_are_named_with_a_hint() {
    let dir = std::env::temp_dir().join(format!("analytics-embed-empty-model-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    match Embedder::load(&dir, 1) {
        Err(e @ EmbedError::Missing { file: "model.safetensors", .. }) => {
            assert!(e.to_string().contains("analytics-embed-empty-model-dir"), "{e}");
            assert!(e.hint().unwrap().contains("scripts/models.sh"), "{:?}", e.hint());
        }
        Err(other) => panic!("expected Missing, got {other}"),
        Ok(_) => panic!("expected Missing, got a model"),
    }
    // Files that are there but broken are Invalid, not a panic (config.json is read first).
    for f in analytics_embed::FILES {
        std::fs::write(dir.join(f), b"not a model").unwrap();
    }
    assert!(matches!(Embedder::load(&dir, 1), Err(EmbedError::Invalid { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}
