"""DPM-Solver++ 2M and EDM Heun: against a Gaussian-data oracle (the exact answer is known) and
step for step against diffusers' schedulers on the same model outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from zoo_ddpm.diffusion import GaussianDiffusion, cosine_betas, linear_betas, rescale_zero_terminal_snr
from zoo_ddpm.solvers import dpm_solver_pp, heun, solver_timesteps

from zoo_core.errors import ZooError

RES = 16


class _Model(torch.nn.Module):
    """What a sampler needs of a model: ``diffusion``, ``config``, ``denoise`` and a parameter.
    Subclasses say what the exact x0 prediction is; the 'network' outputs it as eps, v or x0."""

    zoo_name = "fake"

    def __init__(self, betas, prediction="eps"):
        super().__init__()
        self.diffusion = GaussianDiffusion(betas, prediction=prediction)
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.config = type("C", (), {"in_channels": 1, "res": RES, "clip_denoised": False})()

    def denoise(self, x, t):
        ab = torch.as_tensor(self.diffusion.alphas_cumprod, dtype=torch.float64)[t].view(-1, 1, 1, 1)
        alpha, sigma, x = ab.sqrt(), (1 - ab).sqrt(), x.double()
        x0 = self.x0(x, alpha, sigma, t.double().view(-1, 1, 1, 1) / 1000)
        eps = (x - alpha * x0) / sigma
        out = {"eps": eps, "x0": x0, "v": alpha * eps - sigma * x0}[self.diffusion.prediction]
        return out.float()


class GaussianOracle(_Model):
    """Data x0 ~ N(mu, s^2) per pixel (mu an image, so pixels differ): the exact prediction is
    E[x0 | x_t] = mu + alpha s^2 (x_t - alpha mu) / (alpha^2 s^2 + sigma^2)."""

    def __init__(self, s, betas=None, prediction="eps"):
        super().__init__(linear_betas(1000) if betas is None else betas, prediction)
        self.s = s
        self.mu = torch.linspace(-0.6, 0.6, RES * RES, dtype=torch.float64).view(1, 1, RES, RES)

    def x0(self, x, alpha, sigma, _):
        return self.mu + alpha * self.s**2 * (x - alpha * self.mu) / (alpha**2 * self.s**2 + sigma**2)


def _spread(model, fn, **kw):
    """Mean error and spread / s of 64 x 256 samples (16,384 values)."""
    x = fn(model, 64, generator=torch.Generator().manual_seed(0), **kw).double() - model.mu
    return float(x.mean()), float(x.std()) / model.s


@pytest.mark.parametrize("fn,kw,s", [
    (dpm_solver_pp, {"steps": 10, "spacing": "logsnr"}, 0.2),
    (dpm_solver_pp, {"steps": 10, "spacing": "logsnr"}, 0.5),
    (dpm_solver_pp, {"steps": 20, "spacing": "logsnr"}, 0.2),
    (heun, {}, 0.5),              # 18 steps, EDM's default, at EDM's sigma_data = 0.5
    (heun, {"steps": 30}, 0.2),   # narrower data: exact Heun over-disperses by 6% at 18 steps, 2% at 30
])
@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_few_steps_recover_gaussian_data(fn, kw, s, schedule):
    betas = linear_betas(1000) if schedule == "linear" else cosine_betas(1000)
    mean_err, spread = _spread(GaussianOracle(s, betas), fn, **kw)
    assert abs(mean_err) < 0.01
    assert spread == pytest.approx(1.0, abs=0.06)


@pytest.mark.parametrize("fn,kw", [(dpm_solver_pp, {"steps": 10, "spacing": "logsnr"}), (heun, {})])
@pytest.mark.parametrize("prediction", ["v", "x0"])
def test_zero_terminal_snr_with_v_or_x0_prediction(fn, kw, prediction):
    """alpha-bar(T-1) = 0 (Lin et al.): the solvers stay finite and still recover the data."""
    oracle = GaussianOracle(0.5, rescale_zero_terminal_snr(linear_betas(1000)), prediction)
    assert oracle.diffusion.zero_terminal_snr
    mean_err, spread = _spread(oracle, fn, **kw)
    assert abs(mean_err) < 0.01
    assert spread == pytest.approx(1.0, abs=0.06)


def test_linspace_spacing_loses_the_spread_that_logsnr_keeps():
    """What the default (diffusers' linspace, chosen by FID on images) trades: 10 steps never go below
    t = 100 and the last jump to x0 keeps only the posterior mean there (half the spread for s = 0.2);
    log-SNR spacing keeps it."""
    oracle = GaussianOracle(0.2)
    assert _spread(oracle, dpm_solver_pp, steps=10)[1] < 0.6  # the default is linspace
    assert _spread(oracle, dpm_solver_pp, steps=10, spacing="linspace")[1] < 0.6
    assert _spread(oracle, dpm_solver_pp, steps=10, spacing="logsnr")[1] > 0.95


class Wobbly(_Model):
    """A fixed nonlinear function of (x_t, t) as 'network output': any one serves to compare solvers.
    Its implied x0 is bounded, as a trained network's is, so the noisiest cosine steps (where x0 =
    (x - sigma eps) / alpha multiplies eps by 1e4) do not amplify rounding more than they must."""

    def x0(self, x, alpha, sigma, tt):
        return torch.tanh(x * (1 + tt)) + 0.3 * torch.sin(3 * tt + x) * tt


def _betas(schedule):
    return linear_betas(1000) if schedule == "linear" else cosine_betas(1000)


def _close(ours, theirs, model):
    """Equal up to float32 rounding (diffusers keeps its schedule in float32, we in float64), plus
    what a float32 eps cannot say about x0 at the first step: x0 = (x - sigma eps) / alpha loses
    ulp(eps) / alpha, 7e-5 for the linear schedule but 1e-2 for cosine (alpha-bar(T-1) = 2e-9)."""
    floor = 2.0**-22 / float(model.diffusion.sqrt_alphas_cumprod[-1])
    torch.testing.assert_close(ours, theirs, atol=2e-4 + floor, rtol=1e-4)


def _trajectory(fn, model, x_T, **kw):
    states = []
    fn(model, len(x_T), generator=None, x_T=x_T, callback=lambda i, x: states.append(x.clone()), **kw)
    return states


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("steps", [1, 2, 5, 10, 25])
def test_dpm_solver_pp_equals_diffusers_step_for_step(schedule, steps):
    diffusers = pytest.importorskip("diffusers")
    model = Wobbly(_betas(schedule))
    x_T = torch.randn(2, 1, RES, RES, generator=torch.Generator().manual_seed(1))
    ours = _trajectory(dpm_solver_pp, model, x_T, steps=steps, spacing="linspace")
    sched = diffusers.DPMSolverMultistepScheduler(num_train_timesteps=1000, trained_betas=_betas(schedule),
                                                  algorithm_type="dpmsolver++", solver_order=2)
    sched.set_timesteps(steps)
    assert sched.timesteps.tolist() == solver_timesteps(model.diffusion, steps, "linspace")
    x = x_T.clone()
    for i, t in enumerate(sched.timesteps):
        x = sched.step(model.denoise(x, t.repeat(len(x))), t, x).prev_sample
        _close(ours[i], x, model)
    assert len(ours) == len(sched.timesteps)


@pytest.mark.parametrize("spacing,prediction", [("logsnr", "eps"), ("karras", "eps"), ("logsnr", "v"),
                                                ("logsnr", "x0")])
def test_dpm_solver_pp_equals_diffusers_on_our_timesteps(spacing, prediction):
    diffusers = pytest.importorskip("diffusers")
    model = Wobbly(linear_betas(1000), prediction)
    x_T = torch.randn(2, 1, RES, RES, generator=torch.Generator().manual_seed(2))
    ours = _trajectory(dpm_solver_pp, model, x_T, steps=10, spacing=spacing)
    sched = diffusers.DPMSolverMultistepScheduler(
        num_train_timesteps=1000, trained_betas=linear_betas(1000), algorithm_type="dpmsolver++", solver_order=2,
        prediction_type={"eps": "epsilon", "v": "v_prediction", "x0": "sample"}[prediction])
    sched.set_timesteps(timesteps=solver_timesteps(model.diffusion, 10, spacing))
    x = x_T.clone()
    for i, t in enumerate(sched.timesteps):
        x = sched.step(model.denoise(x, t.repeat(len(x))), t, x).prev_sample
        _close(ours[i], x, model)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_heun_equals_diffusers_step_for_step(schedule):
    """diffusers' HeunDiscreteScheduler works in y = x / alpha (its inputs scaled back by
    scale_model_input) and alternates Euler and correction calls; after each correction (and after
    the final Euler step to sigma = 0) it must hold our x = alpha y."""
    diffusers = pytest.importorskip("diffusers")
    model = Wobbly(_betas(schedule))
    ts = solver_timesteps(model.diffusion, 8, "karras")
    x_T = torch.randn(2, 1, RES, RES, generator=torch.Generator().manual_seed(3))
    ours = _trajectory(heun, model, x_T, steps=8)
    sched = diffusers.HeunDiscreteScheduler(num_train_timesteps=1000, trained_betas=_betas(schedule))
    sched.set_timesteps(timesteps=ts)
    y = x_T * float(sched.sigmas[0] ** 2 + 1) ** 0.5  # our x_T, in diffusers' variable
    done = []
    for t in sched.timesteps:
        out = model.denoise(sched.scale_model_input(y, t), t.round().long().repeat(len(y)))
        y = sched.step(out, t, y).prev_sample
        if sched.state_in_first_order:  # a full step has just ended
            sigma = float(sched.sigmas[sched.step_index])
            done.append(y / (sigma**2 + 1) ** 0.5)
    done.append(y)  # the last call is a lone Euler step to sigma = 0: y is the sample
    assert len(done) == len(ours) == len(ts)
    for a, b in zip(ours, done):
        _close(a, b, model)


def test_steps_and_spacing_errors_are_one_line():
    model = GaussianOracle(0.5)
    g = torch.Generator()
    with pytest.raises(ZooError, match="between 1 and 1000"):
        dpm_solver_pp(model, 1, generator=g, steps=0)
    with pytest.raises(ZooError, match="unknown timestep spacing 'even'"):
        heun(model, 1, generator=g, steps=4, spacing="even")
    # a respacing string picks the timesteps, as it does for the ancestral sampler
    assert solver_timesteps(model.diffusion, "ddim10", "logsnr") == list(range(900, -1, -100))
    assert len(solver_timesteps(model.diffusion, 1000, "logsnr")) < 1000  # snapped repeats dropped
    assert np.all(np.diff(solver_timesteps(model.diffusion, 50, "karras")) < 0)


def test_every_diffusion_model_samples_with_them_from_the_api_and_the_cli(tmp_path):
    """DDPM and iDDPM (learned variance) take --sampler dpm++/heun; seeds repeat; the CLI agrees."""
    from click.testing import CliRunner
    from zoo_ddpm.config import DDPMConfig
    from zoo_ddpm.model import DDPM
    from zoo_iddpm.config import IDDPMConfig
    from zoo_iddpm.model import IDDPM

    from zoo_core.cli import cli
    from zoo_core.hub import save_pretrained

    tiny = {"res": 8, "channels": 8, "channel_mults": (1, 2), "num_res_blocks": 1, "timesteps": 100}
    for model in (DDPM(DDPMConfig(**tiny)), IDDPM(IDDPMConfig(**tiny))):
        for sampler, steps in (("dpm++", 5), ("heun", 3), ("dpm++", None)):
            a = model.generate(2, seed=3, sampler=sampler, steps=steps)
            assert a.shape == (2, 3, 8, 8) and torch.isfinite(a).all()
            assert torch.equal(a, model.generate(2, seed=3, sampler=sampler, steps=steps))
        with pytest.raises(ZooError, match=r"eta \(--eta\) applies to the ddim sampler only"):
            model.generate(1, sampler="dpm++", eta=0.5)
    save_pretrained(model, tmp_path / "m")
    out = tmp_path / "grid.png"
    res = CliRunner().invoke(cli, ["sample", str(tmp_path / "m"), "--sampler", "dpm++", "--steps", "10", "--n", "2",
                                   "--out", str(out), "--device", "cpu"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert out.is_file()


def test_short_zero_terminal_snr_schedules_step_through_clamped_alpha_bars():
    """T = 20 with zero terminal SNR: alpha-bar of both t = 19 and t = 18 is below 2^-24 and clamps to it,
    so linspace's first step has h = 0; the next step falls back to first order instead of dividing by 0."""
    oracle = GaussianOracle(0.5, rescale_zero_terminal_snr(linear_betas(20)), "v")
    mean_err, spread = _spread(oracle, dpm_solver_pp, steps=20)
    assert math.isfinite(mean_err) and abs(mean_err) < 0.05 and 0.5 < spread < 1.5
