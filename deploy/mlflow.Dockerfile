# The MLflow tracking server for deploy/compose.yaml and deploy/k8s/: the course's exact MLflow
# plus the two drivers the production set-up needs, which MLflow's own image leaves out:
# psycopg2 (PostgreSQL backend store) and boto3 (S3 artifact store).
# Build from the repository root:
#   docker build -f deploy/mlflow.Dockerfile -t mlops-course-mlflow:3.17.2 .
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 mlflow \
    && useradd --system --uid 10001 --gid mlflow --home-dir /home/mlflow --create-home \
       --shell /usr/sbin/nologin mlflow

# The same MLflow as pyproject.toml (the server and its clients must agree on the schema).
COPY deploy/constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir --constraint /tmp/constraints.txt \
        mlflow==3.17.2 psycopg2-binary==2.9.13 boto3==1.44.5 \
    && rm /tmp/constraints.txt

USER 10001:10001
WORKDIR /home/mlflow

EXPOSE 5000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=4)"]

# The server's options (stores, --host 0.0.0.0 inside the container, allowed hosts) are given
# by compose `command:` and Kubernetes `args:`, where the deployment's addresses are known.
ENTRYPOINT ["mlflow", "server"]
CMD ["--help"]
