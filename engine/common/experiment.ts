// Experiments: run options that change the arithmetic away from anything a model was trained for,
// for analysis only; always shown with their label (ModelInfo.experimentNote, CLI, app).
//
// 'v2-retrofit-w16a4': the "what if v2" analysis of BitNet v2 Table 4 (retrofitting a trained
// b1.58 model instead of training v2). The Hadamard transform is applied online before W_o and
// W_down, and those two projections use full-precision rotated weights W·Hᵀ (W = alpha·w, the
// ternary weight as trained), so y = (H x)·(W Hᵀ)ᵀ = W x in exact arithmetic; the activation
// quantizers are the run scheme's (with scheme v2-a4: INT4 at all four sites, W16A4 at W_o/W_down).
export const EXPERIMENTS = ['v2-retrofit-w16a4'] as const;
export type Experiment = (typeof EXPERIMENTS)[number];

const DESCRIPTIONS: Record<Experiment, string> = {
  'v2-retrofit-w16a4': 'Hadamard before W_o/W_down with full-precision rotated weights',
};

/** The label shown wherever a run with an experiment is shown. */
export function experimentNote(e: Experiment, scheme: string): string {
  return `EXPERIMENT ${e}: ${DESCRIPTIONS[e]}, ${scheme} activation quantizers (not how the model was trained)`;
}
