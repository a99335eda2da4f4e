"""The one training loop of every CephTrace model, and its learning-rate schedule.

Training budgets are wall-clock minutes of optimisation: `state["elapsed"]` counts the seconds
spent training (validation excluded) and is saved in the checkpoints, so the cosine schedule
runs over the budget and a resumed run continues it where it stopped.
"""
import math
import time


def cosine_lr(peak, frac, step=0, warmup_steps=0):
    """Cosine decay from `peak` at frac 0 to 2 % of it at frac 1 (frac: the part of the budget
    spent), times a linear warm-up over the first `warmup_steps` steps."""
    lr = peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))
    if step < warmup_steps:
        lr *= (step + 1) / warmup_steps
    return lr


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


def fit(opt, state, budget_s, batch_loss, validate, peak_lr, *, validate_now=lambda done: done,
        warmup_steps=0, max_steps=None, deadline=None, after_step=None):
    """Adam steps until the budget is spent, validating when asked.

    state: dict with "elapsed" (seconds of training) and "step", updated in place (the caller
    saves it in its checkpoints). batch_loss(): the loss tensor of the next batch.
    after_step(): called after each optimiser step (an EMA update). validate_now(done) says
    whether to validate after this step; validate(done, mean_loss, lr) then validates (and
    saves, exports, logs) and returns True to stop training now. The time validation takes is
    not training time. Stops after at least one step, once the budget is spent, after
    `max_steps` steps in all, or at the wall-clock time `deadline` (epoch seconds), towards
    which the schedule then runs too."""
    t_mark = time.time()
    wall0, elapsed0 = t_mark, state["elapsed"]
    loss_sum, n = 0.0, 0
    while True:
        frac = min(1.0, state["elapsed"] / budget_s)
        if deadline is not None:
            wall_frac = (elapsed0 + time.time() - wall0) / max(1.0, elapsed0 + deadline - wall0)
            frac = max(frac, min(1.0, wall_frac))
        lr = cosine_lr(peak_lr, frac, state["step"], warmup_steps)
        set_lr(opt, lr)
        loss = batch_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if after_step is not None:
            after_step()
        loss_sum += float(loss)
        n += 1
        state["step"] += 1
        now = time.time()
        state["elapsed"] += now - t_mark
        t_mark = now
        done = (state["elapsed"] >= budget_s
                or (max_steps is not None and state["step"] >= max_steps)
                or (deadline is not None and now >= deadline))
        if validate_now(done):
            done = validate(done, loss_sum / max(n, 1), lr) or done
            loss_sum, n = 0.0, 0
            t_mark = time.time()
        if done:
            return state
