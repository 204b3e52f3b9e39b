package search

import "github.com/shizuishan/culturecloud/configs"

func configsSynonyms() []byte { return configs.Synonyms }
