//! Counts whisper.cpp's encoder passes in one decode, so that the engine knows when the
//! decoding state holds the encoder's output for the whole clip (one window, from its start)
//! and can score other texts against it without running the encoder again
//! ([`crate::WhisperEngine::score_changes`]).
//!
//! whisper-rs offers the encoder's start only as a raw C callback, so this module holds
//! `unsafe` code: the callback and its installation.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use whisper_rs::FullParams;

/// Has whisper.cpp add one to `count` each time the encoder starts during `params`' decode.
/// `count` must outlive that decode (the caller keeps it until `full` returns).
pub(crate) fn install(params: &mut FullParams, count: &AtomicUsize) {
    // SAFETY: `count_encode` only increments the counter behind the pointer, which the caller
    // keeps alive for the decode; whisper.cpp passes the pointer back unchanged.
    unsafe {
        params.set_start_encoder_callback(Some(count_encode));
        params.set_start_encoder_callback_user_data(count as *const AtomicUsize as *mut std::ffi::c_void);
    }
}

/// whisper.cpp's encoder-begin callback: `user_data` is the counter given to [`install`].
/// Returns true: the encoder goes on.
///
/// # Safety
/// `user_data` is the pointer [`install`] set, alive for the decode.
unsafe extern "C" fn count_encode(_ctx: *mut whisper_rs::WhisperSysContext, _state: *mut whisper_rs::WhisperSysState, user_data: *mut std::os::raw::c_void) -> bool {
    if !user_data.is_null() {
        // SAFETY: see the function's contract.
        let count = unsafe { &*(user_data as *const AtomicUsize) };
        count.fetch_add(1, Ordering::Relaxed);
    }
    true
}
