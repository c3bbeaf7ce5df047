// Importing a family module registers its translators.
import './core.js';
import './merge.js';
import './keras3-layers.js';
