// Importing a family module registers its translators.
import './core.js';
import './merge.js';
