//! Same loss, same start: cvxnn's L-BFGS against argmin's (More–Thuente line search), 3-3-2 (N = 30)
//! and 10-50-1 (N = 1000) teachers.
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use cvxnn::data::planted_teacher;
use cvxnn::gradient::{self, GradSettings, Loss, Optimizer};
use cvxnn::train::{quiet, random_network as init_model, InitScheme, Quiet};
use cvxnn::net::{Activation, Architecture};
use std::cell::RefCell;
use std::time::Instant;

struct Problem<'a> {
    loss: &'a Loss<'a>,
    ws: RefCell<gradient::Workspace>,
    evals: RefCell<usize>,
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        *self.evals.borrow_mut() += 1;
        Ok(self.loss.eval(p, None, &mut self.ws.borrow_mut()))
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        *self.evals.borrow_mut() += 1;
        let mut g = vec![0.0; p.len()];
        self.loss.eval(p, Some(&mut g), &mut self.ws.borrow_mut());
        Ok(g)
    }
}

fn main() {
    for (spec, n) in [("3-3-2", 30), ("10-50-1", 1000)] {
        let arch = Architecture::parse(spec, Activation::Linear).unwrap();
        for seed in 1..=5u64 {
            let t = planted_teacher(&arch, n, seed).unwrap();
            let start = init_model(&arch, InitScheme::He, 100 + seed);
            let iters = 300;
            // cvxnn
            let s = GradSettings {
                max_iter: iters,
                grad_tol: 1e-8,
                output_tol: 0.0,
                ..GradSettings::new(Optimizer::Lbfgs { memory: 10 })
            };
            let t0 = Instant::now();
            let run = gradient::train(&t.data.x, &t.data.y, &start, &s, &mut quiet(&mut Quiet)).unwrap();
            let c_secs = t0.elapsed().as_secs_f64();
            // argmin
            let loss = Loss::new(&arch, &t.data.x, &t.data.y).unwrap();
            let theta = loss.layout.pack(&start).unwrap();
            let prob = Problem {
                ws: RefCell::new(loss.workspace()),
                loss: &loss,
                evals: RefCell::new(0),
            };
            let ls = MoreThuenteLineSearch::new().with_c(1e-4, 0.9).unwrap();
            let solver = LBFGS::new(ls, 10)
                .with_tolerance_grad(1e-8)
                .unwrap()
                .with_tolerance_cost(0.0)
                .unwrap();
            let t0 = Instant::now();
            let res = Executor::new(prob, solver)
                .configure(|st| st.param(theta).max_iters(iters as u64))
                .run();
            let a_secs = t0.elapsed().as_secs_f64();
            let (a_cost, a_iters, a_evals) = match &res {
                Ok(r) => (
                    r.state().get_best_cost(),
                    r.state().get_iter(),
                    *r.problem().problem.as_ref().unwrap().evals.borrow(),
                ),
                Err(e) => {
                    println!("argmin error: {e}");
                    (f64::NAN, 0, 0)
                }
            };
            println!(
                "{spec:>8} seed {seed}: cvxnn {:>4} it {:>5} ev {:.3e} loss {:8.4} ms | argmin {:>4} it {:>5} ev {:.3e} loss {:8.4} ms | time ratio {:.2}",
                run.summary.iterations, run.summary.evaluations, run.summary.loss, c_secs * 1e3,
                a_iters, a_evals, a_cost, a_secs * 1e3, a_secs / c_secs
            );
        }
    }
}
