// Compare mode: the same prompt, greedy, under two schemes one after the other on the loaded model.
// Each run is a stored conversation ("Compare: …"); its tap frames are collected from the live
// events. The model's run options are restored afterwards.
import type { Scheme, TapFrame } from '../../../engine/common/api.js';
import type { EventPayload, MessageStats } from '../../../contract/index.js';
import type { AppController, RunChoice } from '../state/controller.js';

export interface CompareRun {
  scheme: Scheme;
  text: string;
  frames: TapFrame[];
  stats?: MessageStats;
  error?: string;
  done: boolean;
}

const MAX_FRAMES = 64;

export async function runCompare(
  controller: AppController,
  modelId: string,
  base: RunChoice,
  schemes: readonly Scheme[],
  prompt: string,
  maxTokens: number,
  onUpdate: (runs: CompareRun[]) => void,
): Promise<CompareRun[]> {
  const { host } = controller;
  const runs: CompareRun[] = schemes.map((scheme) => ({ scheme, text: '', frames: [], done: false }));
  const publish = () => onUpdate(runs.map((r) => ({ ...r })));
  publish();
  try {
    for (const run of runs) {
      if (!(await controller.selectModel(modelId, { ...base, scheme: run.scheme }))) {
        run.error = `could not load the model with scheme ${run.scheme}`;
        run.done = true;
        publish();
        continue;
      }
      const conv = await host.request('conversations.create', {
        title: `Compare: ${schemes.join(' vs ')} (${run.scheme})`,
        sampling: { temperature: 0, maxTokens },
      });
      let messageId = '';
      // Tokens can arrive before chat.send's answer names the message.
      const early: EventPayload<'generation.tokens'>[] = [];
      const finished = new Promise<void>((resolve) => {
        const offs = [
          host.on('generation.tokens', (e) => {
            if (e.conversationId !== conv.id) return;
            if (!messageId) return void early.push(e);
            run.text += e.tokens.map((t) => t.text).join('');
            if (e.taps) run.frames = [...run.frames, e.taps].slice(-MAX_FRAMES);
            publish();
          }),
          host.on('generation.done', (e) => {
            if (e.conversationId !== conv.id) return;
            run.text = e.message.content;
            run.stats = e.message.stats;
            run.done = true;
            offs.forEach((off) => off());
            resolve();
          }),
          host.on('generation.error', (e) => {
            if (e.conversationId !== conv.id) return;
            run.error = e.error;
            run.done = true;
            offs.forEach((off) => off());
            resolve();
          }),
        ];
      });
      const started = await host.request('chat.send', { conversationId: conv.id, text: prompt });
      messageId = started.assistantMessageId;
      for (const e of early) {
        run.text += e.tokens.map((t) => t.text).join('');
        if (e.taps) run.frames.push(e.taps);
      }
      await finished;
      publish();
    }
  } finally {
    await controller.selectModel(modelId, base);
    await controller.refreshConversations();
  }
  return runs;
}
