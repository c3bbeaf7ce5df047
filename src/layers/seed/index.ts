import { z } from 'zod';
import { registerLayer } from '../../registry/custom-layer-registry.js';
import { CustomRiskLayer } from './custom-risk-layer.js';
import { SwishActivation } from './swish-activation.js';
import { TemporalWeighting } from './temporal-weighting.js';

export { CustomRiskLayer, SwishActivation, TemporalWeighting };

/**
 * The seed document's three custom layers (fixtures/seed/seed_models.py). Importing this module
 * registers them, as a user's --custom-layers module registers theirs.
 */
registerLayer('SwishActivation', SwishActivation);
registerLayer('TemporalWeighting', TemporalWeighting, z.object({ units: z.number().int().positive() }));
registerLayer('CustomRiskLayer', CustomRiskLayer);
