// The views of one run, in the order the app and the report viewer show them. The app puts its
// ablation check beside the prediction; a report, having no model, has none.

import type { ReactNode } from 'react';
import { FlowGraph } from './FlowGraph';
import { GeneratedStrip } from './Generate';
import { HeadGrid } from './HeadGrid';
import { LayerChart } from './LayerChart';
import { LogitLens } from './LogitLens';
import { ModuleView, NeuronView } from './NeuronView';
import { PredictionPanel } from './PredictionPanel';
import { Summary } from './Summary';
import { TokenHeatmap } from './TokenHeatmap';

export function RunViews({ check }: { check?: ReactNode }) {
  return (
    <>
      <div className="wide">
        <TokenHeatmap />
        <GeneratedStrip />
        <Summary />
      </div>
      <PredictionPanel />
      {check}
      <div className="wide">
        <HeadGrid />
      </div>
      <div className="wide">
        <FlowGraph />
      </div>
      <LayerChart />
      <LogitLens />
      <NeuronView />
      <ModuleView />
    </>
  );
}
