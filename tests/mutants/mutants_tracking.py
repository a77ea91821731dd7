"""Plausible mistakes in module 01 (solutions/tracking.py)."""

from mutantlib import Mutant

MUTANTS: list[Mutant] = [
    # ------------------------------------------------------------------ 1.1
    Mutant(
        "1.1",
        "fits on train + test",
        "    model.fit(X_train, y_train)\n    y_pred = model.predict(X_test)\n    train_df",
        "    model.fit(pd.concat([X_train, X_test]), pd.concat([y_train, y_test]))\n"
        "    y_pred = model.predict(X_test)\n    train_df",
    ),
    Mutant(
        "1.1",
        "measures the metrics on the training set",
        '"accuracy": accuracy_score(y_test, y_pred),\n'
        '                "f1_macro": f1_score(y_test, y_pred, average="macro"),',
        '"accuracy": accuracy_score(y_train, model.predict(X_train)),\n'
        '                "f1_macro": f1_score(y_train, model.predict(X_train), average="macro"),',
    ),
    Mutant(
        "1.1",
        "weights the F1 average by class size",
        '"f1_macro": f1_score(y_test, y_pred, average="macro"),\n            }\n        )\n'
        '        mlflow.set_tag("model_type"',
        '"f1_macro": f1_score(y_test, y_pred, average="weighted"),\n            }\n        )\n'
        '        mlflow.set_tag("model_type"',
    ),
    Mutant(
        "1.1",
        "forgets the model_type tag",
        '        mlflow.set_tag("model_type", type(model).__name__)\n        mlflow.log_input',
        "        mlflow.log_input",
    ),
    Mutant(
        "1.1",
        "logs the default params of the class, not the model's",
        "mlflow.log_params(model.get_params())",
        "mlflow.log_params(type(model)().get_params())",
    ),
    Mutant(
        "1.1",
        "records the test set as the training data",
        "train_df = X_train.assign(target=np.asarray(y_train))",
        "train_df = X_test.assign(target=np.asarray(y_test))",
    ),
    Mutant(
        "1.1",
        "logs the dataset with another context",
        'mlflow.log_input(dataset, context="training")',
        'mlflow.log_input(dataset, context="train")',
    ),
    Mutant(
        "1.1",
        "infers the signature from the inputs only",
        "signature=infer_signature(X_train, model.predict(X_train)),\n            input_example=X_train.head(5),",
        "signature=infer_signature(X_train),\n            input_example=X_train.head(5),",
    ),
    Mutant(
        "1.1",
        "forgets the input example",
        "            input_example=X_train.head(5),\n",
        "",
    ),
    # ------------------------------------------------------------------ 1.2
    Mutant(
        "1.2",
        "fits the scaler on train + validation",
        "scaler = StandardScaler().fit(X_train)",
        "scaler = StandardScaler().fit(pd.concat([X_train, X_val]))",
    ),
    Mutant(
        "1.2",
        "forgets to scale the features",
        "X_train_scaled, X_val_scaled = scaler.transform(X_train), scaler.transform(X_val)",
        "X_train_scaled, X_val_scaled = X_train.to_numpy(), X_val.to_numpy()",
    ),
    Mutant(
        "1.2",
        "starts the steps at 1",
        "                step=epoch,\n",
        "                step=epoch + 1,\n",
    ),
    Mutant(
        "1.2",
        "scores val_accuracy on the training set",
        '"val_accuracy": model.score(X_val_scaled, y_val),',
        '"val_accuracy": model.score(X_train_scaled, y_train),',
    ),
    Mutant(
        "1.2",
        "starts a new model every epoch",
        "        for epoch in range(epochs):\n            model.partial_fit(",
        "        for epoch in range(epochs):\n"
        '            model = SGDClassifier(loss="log_loss", random_state=random_state)\n'
        "            model.partial_fit(",
    ),
    Mutant(
        "1.2",
        "forgets the params",
        '        mlflow.log_params({"epochs": epochs, "random_state": random_state})\n',
        "",
    ),
    # ------------------------------------------------------------------ 1.3
    Mutant(
        "1.3",
        "sorts the importances smallest first",
        'table.sort_values("importance", ascending=False, kind="stable")',
        'table.sort_values("importance", ascending=True, kind="stable")',
    ),
    Mutant(
        "1.3",
        "averages the signed coefficients",
        "importance = np.abs(np.atleast_2d(model.coef_)).mean(axis=0)",
        "importance = np.atleast_2d(model.coef_).mean(axis=0)",
    ),
    Mutant(
        "1.3",
        "does not seed the permutation importance",
        "permutation_importance(model, X_test, y_test, random_state=0)",
        "permutation_importance(model, X_test, y_test)",
    ),
    Mutant(
        "1.3",
        "writes the CSV with its index",
        'client.log_text(run_id, table.to_csv(index=False), "feature_importance.csv")',
        'client.log_text(run_id, table.to_csv(), "feature_importance.csv")',
    ),
    Mutant(
        "1.3",
        "swaps truth and predictions in the report",
        "classification_report(y_test, y_pred, output_dict=True)",
        "classification_report(y_pred, y_test, output_dict=True)",
    ),
    Mutant(
        "1.3",
        "logs into a new run instead of run_id",
        "    client = MlflowClient()\n    y_pred = model.predict(X_test)\n",
        "    client = MlflowClient()\n"
        "    run_id = client.create_run(client.get_run(run_id).info.experiment_id).info.run_id\n"
        "    y_pred = model.predict(X_test)\n",
    ),
    # ------------------------------------------------------------------ 1.4
    Mutant(
        "1.4",
        "keeps the last of tied candidates",
        "if best_run_id is None or scores.mean() > best_score:",
        "if best_run_id is None or scores.mean() >= best_score:",
    ),
    Mutant(
        "1.4",
        "picks the lowest score",
        "if best_run_id is None or scores.mean() > best_score:",
        "if best_run_id is None or scores.mean() < best_score:",
    ),
    Mutant(
        "1.4",
        "ignores the scoring argument",
        "scores = cross_val_score(candidate, X, y, cv=cv, scoring=scoring)",
        "scores = cross_val_score(candidate, X, y, cv=cv)",
    ),
    Mutant(
        "1.4",
        "ignores the cv argument",
        "scores = cross_val_score(candidate, X, y, cv=cv, scoring=scoring)",
        "scores = cross_val_score(candidate, X, y, scoring=scoring)",
    ),
    Mutant(
        "1.4",
        "sets the params on the estimator itself",
        "candidate = clone(estimator).set_params(**params)",
        "candidate = estimator.set_params(**params)",
    ),
    Mutant(
        "1.4",
        "logs the best params without the best_ prefix",
        'mlflow.log_params({f"best_{name}": value for name, value in best_params.items()})',
        "mlflow.log_params({name: value for name, value in best_params.items()})",
    ),
    # ------------------------------------------------------------------ 1.5
    Mutant(
        "1.5",
        "sorts in the wrong direction",
        'direction = "DESC" if maximize else "ASC"',
        'direction = "ASC" if maximize else "DESC"',
    ),
    Mutant(
        "1.5",
        "ignores the filter",
        "        filter_string=filter_string,\n        order_by=",
        '        filter_string="",\n        order_by=',
    ),
    Mutant(
        "1.5",
        "returns the first run, with or without the metric",
        "    for run in runs:\n        value = run.data.metrics.get(metric)\n",
        "    return runs[0].info.run_id if runs else None\n"
        "    for run in runs:\n        value = run.data.metrics.get(metric)\n",
    ),
    Mutant(
        "1.5",
        "returns None for an unknown experiment",
        "    if experiment is None:\n        raise ValueError(",
        "    if experiment is None:\n        return None\n        raise ValueError(",
    ),
    # ------------------------------------------------------------------ 1.6
    Mutant(
        "1.6",
        "gives MAPE in percent",
        '"mape": float(np.mean(np.abs(errors) / denominators)),',
        '"mape": float(100 * np.mean(np.abs(errors) / denominators)),',
    ),
    Mutant(
        "1.6",
        "divides R² by the sum of squares, not the spread around the mean",
        "ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))",
        "ss_tot = float(np.sum(y_true**2))",
    ),
    Mutant(
        "1.6",
        "forgets the square root of RMSE",
        '"rmse": float(np.sqrt(np.mean(errors**2))),',
        '"rmse": float(np.mean(errors**2)),',
    ),
    Mutant(
        "1.6",
        "lets numpy broadcast different lengths",
        "    if y_true.shape != y_pred.shape:\n",
        "    if y_true.shape != y_pred.shape and y_pred.size != 1:\n",
    ),
    # ------------------------------------------------------------------ 1.7
    Mutant(
        "1.7",
        "submits the stump itself",
        "    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))\n",
        "    from sklearn.tree import DecisionTreeClassifier\n\n"
        "    model = DecisionTreeClassifier(max_depth=1, random_state=0)\n",
    ),
    Mutant(
        "1.7",
        "scores a 1-nearest-neighbour model on its own training rows",
        "    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))\n"
        "    # An honest estimate: each fold is scored by a model that never saw it.\n"
        '    estimate = cross_val_score(model, X_train, y_train, cv=5, scoring="f1_macro").mean()\n'
        "    model.fit(X_train, y_train)\n",
        "    from sklearn.neighbors import KNeighborsClassifier\n\n"
        "    model = KNeighborsClassifier(n_neighbors=1).fit(X_train, y_train)\n"
        '    estimate = f1_score(y_train, model.predict(X_train), average="macro")\n',
    ),
    Mutant(
        "1.7",
        "logs the score as f1, not f1_macro",
        'mlflow.log_metric("f1_macro", estimate)',
        'mlflow.log_metric("f1", estimate)',
    ),
    Mutant(
        "1.7",
        "logs the model under another name",
        'name="model",\n            signature=infer_signature(X_train, model.predict(X_train)),\n'
        "            serialization_format",
        'name="classifier",\n            signature=infer_signature(X_train, model.predict(X_train)),\n'
        "            serialization_format",
    ),
]
