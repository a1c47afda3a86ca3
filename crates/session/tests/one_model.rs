//! One copy of the polishing model for every user of the model manager: the tagger's part,
//! the biasing lists' context check (the whole model) and a batch's polishers. Uses the real
//! model; skips (with a notice) when it is not installed.

use std::path::PathBuf;
use std::time::Duration;

use scrivo_models::resident::Resident;
use scrivo_models::store::ModelStore;
use scrivo_session::pipeline::{EngineChoice, LanguageModel, PolisherMaker};

fn store() -> Option<ModelStore> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let models = scrivo_session::models_store(Some(dir)).expect("models store");
    let entry = models.manifest.default_for(scrivo_models::manifest::Role::Polish)?;
    match models.installed(&entry.id) {
        Ok(_) => Some(models),
        Err(e) => {
            eprintln!("SKIP: the polishing model is not installed ({e})");
            None
        }
    }
}

fn polishing_copies(resident: &Resident) -> Vec<String> {
    resident.status().models.into_iter().map(|m| m.id).filter(|id| id.starts_with("smollm2")).collect()
}

#[test]
fn the_tagger_the_context_check_and_a_batch_share_one_copy() {
    let Some(models) = store() else { return };
    let resident = Resident::new(2 << 30, Duration::from_secs(300));
    let choice = EngineChoice::default();
    let tagger = PolisherMaker::shared(&choice, &models, &resident, &[], false).expect("tagger");
    let part = polishing_copies(&resident);
    assert_eq!(part.len(), 1, "{part:?}");
    assert!(part[0].ends_with("-blocks"), "the tagger alone loads its blocks only: {part:?}");

    // A batch during the dictation, also without lists: the same copy, nothing loaded.
    let batch = PolisherMaker::shared(&choice, &models, &resident, &[], false).expect("batch");
    assert_eq!(polishing_copies(&resident), part);
    drop((tagger, batch));

    // The context check needs the whole model: it replaces the part no one holds...
    let whole = LanguageModel::installed(&models, &resident, None).expect("whole");
    let copies = polishing_copies(&resident);
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].ends_with("#all"), "{copies:?}");
    // ...and then serves the tagger too.
    let tagger = PolisherMaker::shared(&choice, &models, &resident, &["Scrivo".into()], false).expect("tagger");
    assert_eq!(polishing_copies(&resident), copies);
    let polished = tagger.make().expect("polisher").polish("so um we ship Scrivo on on Tuesday").expect("polish");
    assert_eq!(polished.text, "So we ship Scrivo on Tuesday");
    let with_lists = PolisherMaker::shared(&choice, &models, &resident, &[], true).expect("with lists");
    assert!(with_lists.context_scorer().is_some());
    assert_eq!(polishing_copies(&resident), copies);
    drop(whole);
    let status = resident.status();
    assert!(status.models.iter().any(|m| m.id.ends_with("#all") && m.in_use), "the makers hold the manager's copy: {status:?}");
}

#[test]
fn the_kept_prompt_prefix_serves_the_model_loaded_again() {
    let Some(models) = store() else { return };
    let choice = EngineChoice::default();
    let maker = PolisherMaker::with_model(&choice, &[], None).expect("maker");
    let blocks = maker.blocks(false);
    let sentence = "so um we we ship it on tuesday no wednesday";
    let mut kept = None;
    // Under a tight budget the model is unloaded between utterances and loaded again.
    let mut outputs = Vec::new();
    for _ in 0..2 {
        let resident = Resident::new(2 << 30, Duration::from_secs(300));
        let lm = LanguageModel::installed(&models, &resident, blocks).expect("load");
        outputs.push(maker.make_reusing(Some(lm.parts()), &mut kept).expect("polisher").polish(sentence).expect("polish"));
        assert!(kept.is_some());
    }
    let fresh = PolisherMaker::shared(&choice, &models, &Resident::new(2 << 30, Duration::from_secs(300)), &[], false).expect("fresh");
    let want = fresh.make().expect("polisher").polish(sentence).expect("polish");
    for out in outputs {
        assert_eq!(out.text, want.text);
        assert_eq!(out.confidence, want.confidence);
    }
}

#[test]
fn a_context_check_holds_the_model_it_reads() {
    let Some(models) = store() else { return };
    let resident = Resident::new(2 << 30, Duration::from_secs(300));
    let scorer = LanguageModel::installed(&models, &resident, None).expect("whole").context_scorer().expect("scorer");
    let in_use = |r: &Resident| r.status().models.iter().any(|m| m.id.ends_with("#all") && m.in_use);
    assert!(in_use(&resident), "the check holds the manager's copy");
    let lp = scrivo_bias::ContextModel::log_probs(&scorer, "we met at the", &[" office".into(), " xqzv".into()]).expect("scores");
    assert!(lp[0] > lp[1], "{lp:?}");
    drop(scorer);
    assert!(!in_use(&resident));
}
