//! Ctrl-C: the first one asks the running methods to stop at their next iteration and keep their
//! work (report and model are written, the exit code is 130); a second one exits at once.

use cvxnn::train::Interrupt;

/// Installs the handler (once per process) and returns the flag it sets.
pub fn on_ctrl_c() -> Interrupt {
    let flag = Interrupt::new();
    let seen = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if seen.is_triggered() {
            eprintln!("\ninterrupted again: exiting now");
            std::process::exit(130);
        }
        seen.trigger();
        eprintln!(
            "\ninterrupt: stopping at the next iteration, keeping the work done \
             (Ctrl-C again to quit at once)"
        );
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C cannot be caught ({e}): an interrupt ends the run unsaved");
    }
    flag
}
