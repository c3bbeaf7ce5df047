// Importing a family module registers its translators.
import './core.js';
import './merge.js';
import './activation-layers.js';
import './attention.js';
import './convolutional.js';
import './pooling.js';
import './reshaping.js';
import './normalization.js';
import './regularization.js';
import './recurrent.js';
import './embedding.js';
import './preprocessing.js';
import './augmentation.js';
import './applications.js';
