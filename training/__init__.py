"""BitLens trainer: BitNet b1.58 / a4.8 / v2 models, their tokenizer, and export to the BitLens format."""
